package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/flexfactor/credplane/pkg/scope"
	"github.com/flexfactor/credplane/pkg/token"
)

// MsgForbiddenScope is the 403 message for a token without the route's scope.
const MsgForbiddenScope = "Insufficient scope for this operation."

// Principal is the verified caller of a protected route.
type Principal struct {
	MID         string
	SecretKeyID string
	PublicKeyID string
	Scopes      []string
	TokenID     string
}

type principalKey struct{}

// PrincipalFrom returns the caller verified by RequireScope.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// WithPrincipal returns a context carrying p (for tests of inner handlers).
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// TokenVerifier checks an access token.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*token.Claims, error)
}

// KeyStatus tells whether the keys a token was minted from still stand,
// for a key pair presented at authTime; a cached implementation keeps this
// off the request path (nil: tokens live until they expire).
type KeyStatus interface {
	Active(ctx context.Context, authTime time.Time, keyIDs ...string) (bool, error)
}

// Bearer authenticates requests with access tokens.
type Bearer struct {
	Verifier TokenVerifier
	Status   KeyStatus
	Log      *slog.Logger
}

// Require returns h guarded by a valid bearer token holding the scope.
// Failures: 401 with WWW-Authenticate per RFC 6750, 403 for a missing scope.
func (b *Bearer) Require(need string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			unauthorized(w)
			return
		}
		c, err := b.Verifier.Verify(r.Context(), raw)
		if errors.Is(err, token.ErrInvalid) {
			unauthorized(w)
			return
		}
		if err != nil {
			Internal(w, r, b.Log, err)
			return
		}
		if b.Status != nil {
			active, err := b.keysStand(r.Context(), c)
			if err != nil {
				Internal(w, r, b.Log, err)
				return
			}
			if !active {
				unauthorized(w)
				return
			}
		}
		p := Principal{MID: c.MID, SecretKeyID: c.Subject, PublicKeyID: c.ClientID, Scopes: scope.Split(c.Scope), TokenID: c.ID}
		if !scope.Contains(p.Scopes, need) {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+need+`"`)
			Errors(w, http.StatusForbidden, MsgForbiddenScope)
			return
		}
		h.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// keysStand asks the status of both keys a token was minted from: the
// secret key (sub) and the public key (client_id).
func (b *Bearer) keysStand(ctx context.Context, c *token.Claims) (bool, error) {
	ids := []string{c.Subject}
	if c.ClientID != "" {
		ids = append(ids, c.ClientID)
	}
	return b.Status.Active(ctx, c.AuthenticatedAt(), ids...)
}

// bearerToken extracts the token of an "Authorization: Bearer x" header; the
// scheme is case-insensitive (RFC 7235).
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	Errors(w, http.StatusUnauthorized, MsgInvalidToken)
}
