package token

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalid is returned for every token that must not be accepted; the
// reason is never shown to the client.
var ErrInvalid = errors.New("invalid access token")

// KeySource fetches the verification keys (a network call; done once).
type KeySource func(ctx context.Context) (KeySet, error)

// Verifier checks access tokens in memory. Keys are fetched once and
// cached for the life of the process: by Prefetch when the process starts,
// or else on first use; a failed fetch is made again by the next request.
type Verifier struct {
	Issuer   string
	Audience string
	Keys     KeySource
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	once sync.Once
	// fetching is a one-place semaphore held by the fetch under way, so
	// that one fetch runs at a time and a request waits for it only as
	// long as its own context allows.
	fetching chan struct{}
	loaded   atomic.Pointer[verifierKeys]
}

// verifierKeys are the fetched keys and the parser that checks tokens
// against them.
type verifierKeys struct {
	keys   KeySet
	parser *jwt.Parser
}

// Prefetch starts fetching the keys, so that the first request of a
// process finds them fetched, or being fetched, rather than fetching them
// itself. The fetch gives up after timeout; a request then fetches them.
func (v *Verifier) Prefetch(timeout time.Duration) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, _ = v.load(ctx)
	}()
}

// KeySet returns the cached verification keys, fetching them if needed.
func (v *Verifier) KeySet(ctx context.Context) (KeySet, error) {
	l, err := v.load(ctx)
	if err != nil {
		return nil, err
	}
	return l.keys, nil
}

// load returns the keys, waiting for a fetch under way or making one.
func (v *Verifier) load(ctx context.Context) (*verifierKeys, error) {
	if l := v.loaded.Load(); l != nil {
		return l, nil
	}
	v.once.Do(func() { v.fetching = make(chan struct{}, 1) })
	select {
	case v.fetching <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-v.fetching }()
	if l := v.loaded.Load(); l != nil {
		return l, nil // fetched while this request waited
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
	l := &verifierKeys{keys: ks, parser: jwt.NewParser(opts...)}
	v.loaded.Store(l)
	return l, nil
}

// Verify parses and validates a token: ES256 only, a known kid, typ at+jwt,
// and iss, aud, exp, nbf and iat all checked. Any failure is ErrInvalid,
// except a failure to fetch keys, which is returned as is.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	l, err := v.load(ctx)
	if err != nil {
		return nil, err
	}
	var c Claims
	t, err := l.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != Type {
			return nil, ErrInvalid
		}
		kid, _ := t.Header["kid"].(string)
		k, ok := l.keys[kid]
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
