package oauthapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/metrics"
)

// Public messages of upstream's JSON shape.
const (
	// MsgInvalidCredentials is the one message for every refused key pair.
	MsgInvalidCredentials = "Invalid AppKey or AppSecret."
	// MsgInvalidRefresh is the one message for every refused refresh token.
	MsgInvalidRefresh = "Invalid refresh token."
	// MsgTooManyRequests refuses a secret key past its token limit, in
	// both shapes (429, with Retry-After).
	MsgTooManyRequests = "Too many token requests."
)

// upstreamOK is the upstream 200 body; expires is epoch milliseconds.
type upstreamOK struct {
	AccessToken  string   `json:"accessToken"`
	RefreshToken string   `json:"refreshToken"`
	Expires      int64    `json:"expires"`
	ID           string   `json:"id"`
	Success      bool     `json:"success"`
	Errors       []string `json:"errors"`
}

// upstreamFail is the upstream failure body.
type upstreamFail struct {
	Success bool     `json:"success"`
	Errors  []string `json:"errors"`
}

// upstreamToken serves {"AppKey","AppSecret"} and {"RefreshToken"}; member
// names match ignoring ASCII case. A refresh token member, when present,
// makes the request a refresh.
func (h *Handler) upstreamToken(w http.ResponseWriter, r *http.Request) {
	body, err := httpapi.ReadBody(w, r)
	var obj map[string]json.RawMessage
	if err == nil {
		obj, err = foldedObject(body)
	}
	var be *httpapi.BodyError
	if errors.As(err, &be) {
		httpapi.JSON(w, be.Status, upstreamFail{Errors: []string{be.Message}})
		return
	}
	var t auth.Tokens
	grant := "client_credentials"
	if rt, ok := stringMember(obj, "refreshtoken"); ok {
		grant = "refresh_token"
		t, err = h.Auth.Refresh(r.Context(), rt, nil, nil)
	} else {
		appKey, _ := stringMember(obj, "appkey")
		appSecret, _ := stringMember(obj, "appsecret")
		t, err = h.Auth.Exchange(r.Context(), appKey, appSecret, nil)
	}
	p, refused := refusalOf(err)
	switch {
	case refused:
		retryAfter(w, err)
		h.refused(r, grant, p.Code, auth.ReasonOf(err))
		httpapi.JSON(w, p.upstreamStatus(), upstreamFail{Errors: []string{p.Upstream}})
	case err != nil:
		httpapi.Internal(w, r, h.Log, err)
	default:
		h.issued(r, grant, t)
		httpapi.JSON(w, http.StatusOK, upstreamOK{
			AccessToken:  t.AccessToken,
			RefreshToken: t.RefreshToken,
			Expires:      t.ExpiresAt.UnixMilli(),
			ID:           t.ClientID,
			Success:      true,
			Errors:       []string{},
		})
	}
}

// foldedObject parses a JSON object and keys its members by their name in
// ASCII lower case. Two members whose names differ only in ASCII case are
// the same member named twice: malformed, like an exact duplicate.
func foldedObject(body []byte) (map[string]json.RawMessage, error) {
	obj, err := httpapi.ParseObject(body)
	if err != nil {
		return nil, err
	}
	folded := make(map[string]json.RawMessage, len(obj))
	for name, raw := range obj {
		lower := asciiLower(name)
		if _, dup := folded[lower]; dup {
			return nil, &httpapi.BodyError{Status: http.StatusBadRequest, Message: httpapi.MsgMalformedJSON}
		}
		folded[lower] = raw
	}
	return folded, nil
}

// asciiLower maps A-Z to a-z and leaves every other byte alone. Unicode
// case mapping would let other characters stand for ASCII letters (the
// Kelvin sign U+212A lowers to k).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// stringMember returns the member named lower in an object from
// foldedObject; ok is false when there is none. A member of another type
// reads as "".
func stringMember(obj map[string]json.RawMessage, lower string) (string, bool) {
	raw, ok := obj[lower]
	if !ok {
		return "", false
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s, true
}

// Log events of the token endpoint: a stable event field that CloudWatch
// can count and alarm on. Neither ever holds a token or a key value. Each
// is also counted in the request's metric line (TokensIssued by grant
// type, TokensRefused by reason).
const (
	EventTokenIssued  = "token.issued"
	EventTokenRefused = "token.refused"
)

// issued logs a grant without any token in it.
func (h *Handler) issued(r *http.Request, grant string, t auth.Tokens) {
	h.Log.InfoContext(r.Context(), "token issued", "event", EventTokenIssued, "grant_type", grant,
		"mid", t.MID, "key_id", t.SecretKeyID, "client_id", t.ClientID, "scope", t.Scope)
	metrics.Record(r.Context(), metrics.TokensIssued, metrics.DimGrantType, grant)
}

// refused logs a refused request: its public error code and its internal
// reason, which the answer never tells.
func (h *Handler) refused(r *http.Request, grant, code, reason string) {
	if reason == "" {
		reason = code
	}
	h.Log.InfoContext(r.Context(), "token refused", "event", EventTokenRefused, "grant_type", grant, "error", code, "reason", reason)
	metrics.Record(r.Context(), metrics.TokensRefused, metrics.DimReason, reason)
}
