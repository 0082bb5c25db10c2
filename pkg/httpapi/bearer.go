package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/flexfactor/credplane/pkg/auth"
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

// KeyStatus tells whether the keys a token was minted from, at the
// generations of their values named in the token, still stand and belong
// to the token's merchant; a cached implementation keeps this off the
// request path (nil: tokens live until they expire).
type KeyStatus interface {
	Active(ctx context.Context, mid string, keys ...auth.KeyRef) (bool, error)
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
			InsufficientScope(w, need)
			Errors(w, http.StatusForbidden, MsgForbiddenScope)
			return
		}
		h.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// keysStand asks the status of both keys a token was minted from: the
// secret key (sub) and the public key (client_id). Their records also
// vouch for the token's mid, so a token whose mid is not its keys'
// merchant is refused even though it is signed.
func (b *Bearer) keysStand(ctx context.Context, c *token.Claims) (bool, error) {
	keys := []auth.KeyRef{{ID: c.Subject, Generation: c.KeyGen}}
	if c.ClientID != "" {
		keys = append(keys, auth.KeyRef{ID: c.ClientID, Generation: c.ClientGen})
	}
	return b.Status.Active(ctx, c.MID, keys...)
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

// InsufficientScope sets the RFC 6750 challenge of a 403 for a token that
// lacks the scopes needed (space-separated).
func InsufficientScope(w http.ResponseWriter, needed string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+needed+`"`)
}
