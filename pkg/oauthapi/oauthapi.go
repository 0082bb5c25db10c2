// Package oauthapi serves the /v1/oauth2 routes: the exchange of a key pair
// or a refresh token for tokens, in upstream's JSON shape and as standard
// OAuth 2.0 (RFC 6749), the revocation of refresh tokens (RFC 7009) and the
// public keys that verify access tokens (JWKS).
package oauthapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/token"
)

// Handler serves the token endpoints.
type Handler struct {
	Auth *auth.Service
	// KeySet returns the keys that verify access tokens (cached by the caller).
	KeySet func(ctx context.Context) (token.KeySet, error)
	// Realm names the protection space in WWW-Authenticate: Basic.
	Realm string
	Log   *slog.Logger
}

// Routes lists the method and path patterns this handler serves; the SAM
// template must route exactly these to the function.
var Routes = []string{
	"POST /v1/oauth2/token",
	"POST /v1/oauth2/revoke",
	"GET /v1/oauth2/jwks",
}

// Register adds the routes to mux, and a 405 for other methods on them.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/oauth2/token", h.token)
	mux.HandleFunc("POST /v1/oauth2/revoke", h.revoke)
	mux.HandleFunc("GET /v1/oauth2/jwks", h.jwks)
	mux.HandleFunc("/v1/oauth2/token", httpapi.MethodNotAllowed("POST"))
	mux.HandleFunc("/v1/oauth2/revoke", httpapi.MethodNotAllowed("POST"))
	mux.HandleFunc("/v1/oauth2/jwks", httpapi.MethodNotAllowed("GET, HEAD"))
}

// noStore keeps token responses out of every cache (RFC 6749 §5.1).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// token serves both request shapes: a form body is standard OAuth 2.0,
// anything else is upstream's JSON.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if isForm(r) {
		h.oauthToken(w, r)
		return
	}
	h.upstreamToken(w, r)
}
