package tokenapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/httpapi"
)

// Public messages of upstream's JSON shape.
const (
	// MsgInvalidCredentials is the one message for every refused key pair.
	MsgInvalidCredentials = "Invalid AppKey or AppSecret."
	// MsgInvalidRefresh is the one message for every refused refresh token.
	MsgInvalidRefresh = "Invalid refresh token."
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
// names match case-insensitively. A refresh token member, when present,
// makes the request a refresh.
func (h *Handler) upstreamToken(w http.ResponseWriter, r *http.Request) {
	body, err := httpapi.ReadBody(w, r)
	var obj map[string]json.RawMessage
	if err == nil {
		obj, err = httpapi.ParseObject(body)
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
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		h.refused(r, grant, "invalid_client")
		httpapi.JSON(w, http.StatusBadRequest, upstreamFail{Errors: []string{MsgInvalidCredentials}})
	case errors.Is(err, auth.ErrInvalidGrant):
		h.refused(r, grant, "invalid_grant")
		httpapi.JSON(w, http.StatusBadRequest, upstreamFail{Errors: []string{MsgInvalidRefresh}})
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

// stringMember returns the string member whose name matches lower
// case-insensitively; ok is false when there is none. A member of another
// type reads as "".
func stringMember(obj map[string]json.RawMessage, lower string) (string, bool) {
	for name, raw := range obj {
		if strings.ToLower(name) != lower {
			continue
		}
		var s string
		_ = json.Unmarshal(raw, &s)
		return s, true
	}
	return "", false
}

// issued logs a grant without any token in it.
func (h *Handler) issued(r *http.Request, grant string, t auth.Tokens) {
	h.Log.InfoContext(r.Context(), "token issued", "grant_type", grant, "client_id", t.ClientID, "scope", t.Scope)
}

// refused logs a refused grant by its public error code only.
func (h *Handler) refused(r *http.Request, grant, code string) {
	h.Log.InfoContext(r.Context(), "token refused", "grant_type", grant, "error", code)
}
