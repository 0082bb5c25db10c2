package oauthapi

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/scope"
)

// OAuth 2.0 error codes (RFC 6749 §5.2, RFC 7009 §2.2.1): the error member of a refusal.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
	CodeUnsupportedTokenType = "unsupported_token_type"
	// CodeTooManyRequests is not RFC 6749's: this API's answer to a key
	// past its token limit (429).
	CodeTooManyRequests = "too_many_requests"
)

// Public descriptions of OAuth 2.0 failures.
const (
	DescMissingGrantType    = "The grant_type parameter is missing."
	DescRepeatedParameter   = "A parameter is repeated."
	DescMalformedForm       = "Malformed form body."
	DescNotForm             = "The body must be application/x-www-form-urlencoded."
	DescTwoAuthMethods      = "Client credentials were sent in more than one way."
	DescMissingRefreshToken = "The refresh_token parameter is missing."
	DescMissingToken        = "The token parameter is missing."
	DescInvalidClient       = "Client authentication failed."
	DescInvalidGrant        = "The refresh token is invalid, expired or revoked."
	DescUnsupportedGrant    = "The grant_type is not supported."
	DescInvalidScope        = "The requested scope is invalid or exceeds the scope granted."
	DescUnsupportedToken    = "Only refresh tokens can be revoked."
)

// oauthOK is the RFC 6749 §5.1 success body (plus the errors array every
// response of this API carries).
type oauthOK struct {
	AccessToken  string   `json:"access_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int64    `json:"expires_in"`
	Scope        string   `json:"scope"`
	RefreshToken string   `json:"refresh_token"`
	Errors       []string `json:"errors"`
}

// oauthFail is the RFC 6749 §5.2 error body; errors repeats the description.
type oauthFail struct {
	Error       string   `json:"error"`
	Description string   `json:"error_description"`
	Errors      []string `json:"errors"`
}

// isForm reports whether the request declares a form body.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// oauthToken serves the client_credentials and refresh_token grants.
func (h *Handler) oauthToken(w http.ResponseWriter, r *http.Request) {
	form, ok := h.readForm(w, r)
	if !ok {
		return
	}
	grant := form.Get("grant_type")
	creds, err := clientCredentials(r, form)
	if err != nil {
		h.oauthError(w, r, http.StatusBadRequest, CodeInvalidRequest, DescTwoAuthMethods)
		return
	}
	requested := scope.Split(form.Get("scope"))
	if len(requested) == 0 {
		requested = nil // an empty parameter is an omitted one (RFC 6749 §3.1)
	}
	var t auth.Tokens
	switch grant {
	case "":
		h.oauthError(w, r, http.StatusBadRequest, CodeInvalidRequest, DescMissingGrantType)
		return
	case "client_credentials":
		if !creds.complete() {
			h.invalidClient(w, r)
			return
		}
		t, err = h.Auth.Exchange(r.Context(), creds.id, creds.secret, requested)
	case "refresh_token":
		rt := form.Get("refresh_token")
		if rt == "" {
			h.oauthError(w, r, http.StatusBadRequest, CodeInvalidRequest, DescMissingRefreshToken)
			return
		}
		// The client authenticates as for client credentials (RFC 6749 §6),
		// and the token must have been issued to it: a refresh token alone
		// is not enough.
		client, ok := h.authenticate(w, r, creds)
		if !ok {
			return
		}
		t, err = h.Auth.Refresh(r.Context(), rt, &client, requested)
	default:
		h.oauthError(w, r, http.StatusBadRequest, CodeUnsupportedGrantType, DescUnsupportedGrant)
		return
	}
	p, refused := refusalOf(err)
	switch {
	case refused:
		h.oauthRefuse(w, r, p, err)
	case err != nil:
		httpapi.Internal(w, r, h.Log, err)
	default:
		h.issued(r, grant, t)
		httpapi.JSON(w, http.StatusOK, oauthOK{
			AccessToken:  t.AccessToken,
			TokenType:    "Bearer",
			ExpiresIn:    int64(t.ExpiresAt.Sub(t.IssuedAt).Seconds()),
			Scope:        t.Scope,
			RefreshToken: t.RefreshToken,
			Errors:       []string{},
		})
	}
}

// readForm reads a form body; it answers the failure itself. Parameters
// must not repeat (RFC 6749 §3.1).
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if !isForm(r) {
		h.oauthError(w, r, http.StatusBadRequest, CodeInvalidRequest, DescNotForm)
		return nil, false
	}
	body, err := httpapi.ReadBody(w, r)
	var be *httpapi.BodyError
	if errors.As(err, &be) {
		desc := DescMalformedForm
		if be.Status == http.StatusRequestEntityTooLarge {
			desc = be.Message
		}
		h.oauthError(w, r, be.Status, CodeInvalidRequest, desc)
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		h.oauthError(w, r, http.StatusBadRequest, CodeInvalidRequest, DescMalformedForm)
		return nil, false
	}
	for _, v := range form {
		if len(v) > 1 {
			h.oauthError(w, r, http.StatusBadRequest, CodeInvalidRequest, DescRepeatedParameter)
			return nil, false
		}
	}
	return form, true
}

// authenticate checks client credentials; it answers the failure itself.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, c credentials) (auth.Client, bool) {
	if !c.complete() {
		h.invalidClient(w, r)
		return auth.Client{}, false
	}
	client, err := h.Auth.Authenticate(r.Context(), c.id, c.secret)
	if p, refused := refusalOf(err); refused {
		h.oauthRefuse(w, r, p, err)
		return auth.Client{}, false
	}
	if err != nil {
		httpapi.Internal(w, r, h.Log, err)
		return auth.Client{}, false
	}
	return client, true
}

// invalidClient answers a request without usable client credentials.
func (h *Handler) invalidClient(w http.ResponseWriter, r *http.Request) {
	p, _ := refusalOf(auth.ErrInvalidCredentials)
	h.oauthRefuse(w, r, p, nil)
}

// oauthError answers a request refused before any credential was checked
// (its error code is its reason) with an RFC 6749 §5.2 error body.
func (h *Handler) oauthError(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	h.refused(r, "oauth2", code, "")
	writeOAuthError(w, status, code, desc)
}

// writeOAuthError writes an RFC 6749 §5.2 error body.
func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	httpapi.JSON(w, status, oauthFail{Error: code, Description: desc, Errors: []string{desc}})
}
