// Package auth exchanges a merchant's key pair for access and refresh
// tokens, rotates and revokes refresh tokens, and decides whether the keys
// behind a token still stand. It imports no AWS SDK: credentials, key
// records and refresh tokens are read and written through the Store port.
package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/token"
	"github.com/oklog/ulid/v2"
)

// ErrInvalidCredentials covers every reason a key pair is refused, so that
// nothing about the reason can be learnt from the answer.
var ErrInvalidCredentials = errors.New("invalid AppKey or AppSecret")

// Credential is what the digest lookup of one key value yields.
type Credential struct {
	Digest    apikey.Digest
	KeyID     string
	MID       string
	Type      apikey.Type
	Scopes    []string
	ExpiresAt *time.Time // the key's own expiry
	// ValidUntil ends an old value's grace period after a roll.
	ValidUntil *time.Time
	// Generation is the generation of this value of the key.
	Generation int64
}

// usableAt reports whether the credential may authenticate at now.
func (c *Credential) usableAt(now time.Time) bool {
	return (c.ExpiresAt == nil || now.Before(*c.ExpiresAt)) &&
		(c.ValidUntil == nil || now.Before(*c.ValidUntil))
}

// Store reads credentials and key records and keeps refresh tokens.
type Store interface {
	// LookupCredentials returns the credentials for two digests in one
	// strongly consistent read; a missing digest yields nil.
	LookupCredentials(ctx context.Context, a, b apikey.Digest) (*Credential, *Credential, error)
	// RecordExchange stores a refresh token, sets last_used on both keys
	// and counts one token of r.SecretKeyID in the minute of r.IssuedAt
	// (TokenMinute), in one write conditioned on both keys still admitting
	// the generations presented and on the key having obtained fewer than
	// limit tokens in that minute: apikey.ErrNotFound when a key is gone,
	// revoked, or rolled past them meanwhile, else ErrRateLimited when the
	// count is reached. A refused write changes nothing.
	RecordExchange(ctx context.Context, r RefreshRecord, limit int) error
	// WithdrawIssue undoes a committed RecordExchange of r (replaced nil)
	// or RotateRefresh of replaced to r, whose tokens were never handed
	// out, in one write: r is marked revoked, its token of the minute is
	// given back to the secret key's count, and the token replaced is no
	// longer marked rotated, so that it may be presented again. last_used
	// stays: the keys were presented.
	WithdrawIssue(ctx context.Context, r RefreshRecord, replaced *[sha256.Size]byte) error
	KeyStates
	RefreshStore
}

// Tokens is the result of a successful exchange or refresh.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	IssuedAt     time.Time
	ExpiresAt    time.Time
	ClientID     string
	// SecretKeyID and MID are the key and merchant the tokens act for.
	SecretKeyID string
	MID         string
	// Scope is the access token's scope (space-separated).
	Scope string
}

// Client is a key pair that authenticated: the public key names the client,
// the secret key gives the token its power.
type Client struct {
	PublicKeyID string
	SecretKeyID string
	// PublicGen and SecretGen are the generations of the values presented.
	PublicGen int64
	SecretGen int64
	MID       string
	Scopes    []string
	// ValidUntil is the earliest end of a grace period among the two values
	// presented (nil when neither is an old value of a rolled key).
	ValidUntil *time.Time
}

// Service exchanges credentials for tokens.
type Service struct {
	Store  Store
	Issuer *token.Issuer
	Stage  apikey.Stage
	// TokenLimit is how many tokens a secret key may obtain per minute,
	// exchanges and refreshes together; zero means DefaultTokenLimit.
	TokenLimit int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Retention is how long audit events are kept; zero means
	// audit.DefaultRetention.
	Retention time.Duration

	// over holds the keys this container saw refused for their rate.
	over overLimit
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Authenticate checks a public + secret key pair. Every failure is
// ErrInvalidCredentials; both values are looked up and every check is
// evaluated, so the time taken does not tell which part was wrong. A value
// whose shape or checksum is wrong is refused before any read: the checksum
// is public, so that tells a caller nothing it could not compute.
func (s *Service) Authenticate(ctx context.Context, appKey, appSecret string) (Client, error) {
	pt, perr := apikey.ParseValue(appKey, s.Stage)
	st, serr := apikey.ParseValue(appSecret, s.Stage)
	if perr != nil || serr != nil {
		return Client{}, refusedPair(ReasonMalformed)
	}
	if pt != apikey.Public || st != apikey.Secret {
		return Client{}, refusedPair(ReasonWrongType)
	}
	pd, sd := apikey.DigestOf(appKey), apikey.DigestOf(appSecret)
	pub, sec, err := s.Store.LookupCredentials(ctx, pd, sd)
	if err != nil {
		return Client{}, fmt.Errorf("lookup credentials: %w", err)
	}
	now := s.now()
	if !pairMatches(pub, sec, pd, sd, now) {
		return Client{}, refusedPair(whyRefused(pub, sec, now))
	}
	return Client{
		PublicKeyID: pub.KeyID,
		SecretKeyID: sec.KeyID,
		PublicGen:   pub.Generation,
		SecretGen:   sec.Generation,
		MID:         sec.MID,
		Scopes:      sec.Scopes,
		ValidUntil:  earliest(pub.ValidUntil, sec.ValidUntil),
	}, nil
}

// Exchange checks a key pair and issues tokens for a new refresh family.
// requested narrows the access token's scope (nil: every scope of the
// secret key); the refresh token keeps the narrowed scope. Failures:
// ErrInvalidCredentials, then ErrInvalidScope, then a *Limited when the
// secret key obtained its tokens of the minute.
func (s *Service) Exchange(ctx context.Context, appKey, appSecret string, requested []string) (Tokens, error) {
	c, err := s.Authenticate(ctx, appKey, appSecret)
	if err != nil {
		return Tokens{}, err
	}
	sc, err := narrow(c.Scopes, requested)
	if err != nil {
		return Tokens{}, err
	}
	now := s.now()
	t, err := s.issue(ctx, grant{
		subject: token.Subject{
			SecretKeyID: c.SecretKeyID,
			PublicKeyID: c.PublicKeyID,
			SecretGen:   c.SecretGen,
			PublicGen:   c.PublicGen,
			MID:         c.MID,
			Scopes:      sc,
			AuthTime:    now,
			NotAfter:    c.ValidUntil,
		},
		family:       ulid.Make().String(),
		refreshScope: sc,
	})
	if errors.Is(err, apikey.ErrNotFound) {
		return Tokens{}, refusedPair(ReasonRevoked) // deleted or rolled meanwhile
	}
	return t, err
}

// pairMatches evaluates every condition without an early exit.
func pairMatches(pub, sec *Credential, pd, sd apikey.Digest, now time.Time) bool {
	if pub == nil || sec == nil {
		return false
	}
	ok := pub.Digest.Equal(pd)
	ok = sec.Digest.Equal(sd) && ok
	ok = pub.Type == apikey.Public && ok
	ok = sec.Type == apikey.Secret && ok
	ok = pub.MID == sec.MID && ok
	ok = pub.usableAt(now) && ok
	ok = sec.usableAt(now) && ok
	return ok
}

// whyRefused names the reason pairMatches refused a pair; it runs only
// after every check was evaluated, so it changes no timing that matters.
func whyRefused(pub, sec *Credential, now time.Time) string {
	switch {
	case pub == nil || sec == nil:
		return ReasonUnknownKey
	case pub.Type != apikey.Public || sec.Type != apikey.Secret:
		return ReasonWrongType
	case pub.MID != sec.MID:
		return ReasonPairMismatch
	case (pub.ExpiresAt != nil && !now.Before(*pub.ExpiresAt)) || (sec.ExpiresAt != nil && !now.Before(*sec.ExpiresAt)):
		return ReasonExpired
	}
	return ReasonGraceOver
}

// grant is what one issue of tokens needs.
type grant struct {
	subject token.Subject
	family  string
	// refreshScope is the refresh token's scope, which a refresh keeps even
	// when the access token it yields is narrowed (RFC 6749 §6).
	refreshScope string
	// replaces is the refresh token this issue rotates, nil for a new family.
	replaces *[sha256.Size]byte
}

// earliest returns the earlier of two optional times.
func earliest(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.Before(*a)) {
		return b
	}
	return a
}
