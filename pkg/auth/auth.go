// Package auth exchanges a merchant's key pair for access and refresh
// tokens. It imports no AWS SDK: credentials and refresh tokens are read and
// written through the Store port.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/scope"
	"github.com/flexfactor/credplane/pkg/token"
	"github.com/oklog/ulid/v2"
)

// RefreshTTL is how long an unused refresh token stays valid.
const RefreshTTL = 24 * time.Hour

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
}

// usableAt reports whether the credential may authenticate at now.
func (c *Credential) usableAt(now time.Time) bool {
	return (c.ExpiresAt == nil || now.Before(*c.ExpiresAt)) &&
		(c.ValidUntil == nil || now.Before(*c.ValidUntil))
}

// RefreshRecord is the stored form of a refresh token: its digest, never
// the token itself.
type RefreshRecord struct {
	Digest      [sha256.Size]byte
	FamilyID    string
	SecretKeyID string
	PublicKeyID string
	MID         string
	Scope       string
	IssuedAt    time.Time
	ExpiresAt   time.Time
}

// Store reads credentials and records token exchanges.
type Store interface {
	// LookupCredentials returns the credentials for two digests in one
	// strongly consistent read; a missing digest yields nil.
	LookupCredentials(ctx context.Context, a, b apikey.Digest) (*Credential, *Credential, error)
	// RecordExchange stores a refresh token and sets last_used on both keys,
	// in one write.
	RecordExchange(ctx context.Context, r RefreshRecord) error
}

// Tokens is the result of a successful exchange.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
	ClientID     string
	Scope        string
}

// Service exchanges credentials for tokens.
type Service struct {
	Store  Store
	Issuer *token.Issuer
	Stage  apikey.Stage
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Exchange checks a public + secret key pair and issues tokens. Every
// failure is ErrInvalidCredentials; both values are looked up and every
// check is evaluated, so the time taken does not tell which part was wrong.
func (s *Service) Exchange(ctx context.Context, appKey, appSecret string) (Tokens, error) {
	pt, perr := apikey.ParseValue(appKey, s.Stage)
	st, serr := apikey.ParseValue(appSecret, s.Stage)
	if perr != nil || serr != nil || pt != apikey.Public || st != apikey.Secret {
		return Tokens{}, ErrInvalidCredentials
	}
	pd, sd := apikey.DigestOf(appKey), apikey.DigestOf(appSecret)
	pub, sec, err := s.Store.LookupCredentials(ctx, pd, sd)
	if err != nil {
		return Tokens{}, fmt.Errorf("lookup credentials: %w", err)
	}
	if !pairMatches(pub, sec, pd, sd, s.now()) {
		return Tokens{}, ErrInvalidCredentials
	}
	return s.issue(ctx, token.Subject{
		SecretKeyID: sec.KeyID,
		PublicKeyID: pub.KeyID,
		MID:         sec.MID,
		Scopes:      scope.Join(sec.Scopes),
	}, ulid.Make().String())
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

// issue signs an access token and stores a fresh refresh token of the family.
func (s *Service) issue(ctx context.Context, sub token.Subject, family string) (Tokens, error) {
	at, err := s.Issuer.Issue(ctx, sub)
	if err != nil {
		return Tokens{}, fmt.Errorf("sign access token: %w", err)
	}
	rt, digest, err := newRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	now := s.now()
	err = s.Store.RecordExchange(ctx, RefreshRecord{
		Digest:      digest,
		FamilyID:    family,
		SecretKeyID: sub.SecretKeyID,
		PublicKeyID: sub.PublicKeyID,
		MID:         sub.MID,
		Scope:       sub.Scopes,
		IssuedAt:    now,
		ExpiresAt:   now.Add(RefreshTTL),
	})
	if errors.Is(err, apikey.ErrNotFound) {
		return Tokens{}, ErrInvalidCredentials // the key was deleted meanwhile
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("record exchange: %w", err)
	}
	return Tokens{
		AccessToken:  at.Token,
		RefreshToken: rt,
		ExpiresAt:    at.ExpiresAt,
		ClientID:     sub.PublicKeyID,
		Scope:        sub.Scopes,
	}, nil
}

// refreshPrefix marks refresh tokens so scanners and humans can tell them apart.
const refreshPrefix = "rt_"

// newRefreshToken returns an opaque token with 256 random bits and its digest.
func newRefreshToken() (string, [sha256.Size]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", [sha256.Size]byte{}, fmt.Errorf("generate refresh token: %w", err)
	}
	t := refreshPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return t, sha256.Sum256([]byte(t)), nil
}
