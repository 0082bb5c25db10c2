package token

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalid is returned for every token that must not be accepted; the
// reason is never shown to the client.
var ErrInvalid = errors.New("invalid access token")

// KeySource fetches the verification keys (a network call; done once).
type KeySource func(ctx context.Context) (KeySet, error)

// Verifier checks access tokens in memory. Keys are fetched on first use and
// cached for the life of the process (one fetch per cold start); a failed
// fetch is retried on the next request.
type Verifier struct {
	Issuer   string
	Audience string
	Keys     KeySource
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	keys   KeySet
	parser *jwt.Parser
}

// KeySet returns the cached verification keys, fetching them if needed.
func (v *Verifier) KeySet(ctx context.Context) (KeySet, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys != nil {
		return v.keys, nil
	}
	ks, err := v.Keys(ctx)
	if err != nil {
		return nil, err
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithIssuer(v.Issuer),
		jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	}
	if v.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(v.Now))
	}
	v.keys, v.parser = ks, jwt.NewParser(opts...)
	return ks, nil
}

// Verify parses and validates a token: ES256 only, a known kid, typ at+jwt,
// and iss, aud, exp, nbf and iat all checked. Any failure is ErrInvalid,
// except a failure to fetch keys, which is returned as is.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	ks, err := v.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	var c Claims
	t, err := v.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != Type {
			return nil, ErrInvalid
		}
		kid, _ := t.Header["kid"].(string)
		k, ok := ks[kid]
		if !ok {
			return nil, ErrInvalid
		}
		return (*ecdsa.PublicKey)(k), nil
	})
	if err != nil || !t.Valid || c.Subject == "" || c.MID == "" || c.ID == "" {
		return nil, ErrInvalid
	}
	return &c, nil
}
