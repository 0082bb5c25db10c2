package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/scope"
	"github.com/flexfactor/credplane/pkg/token"
)

// RefreshTTL is how long a refresh family lives: from the key-pair
// exchange that started it, whatever its refreshes.
const RefreshTTL = 24 * time.Hour

// Refresh failures. ErrInvalidGrant is the one public answer for every
// refused refresh token; ErrRefreshConflict is a storage signal.
var (
	ErrInvalidGrant = errors.New("invalid refresh token")
	// ErrRefreshConflict: the token was rotated or revoked before this
	// rotation could commit (a reuse, or a concurrent use).
	ErrRefreshConflict = errors.New("refresh token already used")
)

// RefreshRecord is the stored form of a refresh token: its digest, never
// the token itself. A rotated record stays, as a tombstone, until it
// expires, so that its reuse is recognised.
type RefreshRecord struct {
	Digest      [sha256.Size]byte
	FamilyID    string
	SecretKeyID string
	PublicKeyID string
	// SecretGen and PublicGen are the generations of the key values the
	// family was started with; rotations keep them, so a roll of either key
	// reaches the whole family.
	SecretGen int64
	PublicGen int64
	MID       string
	Scope     string
	// AuthTime is when the key pair was presented; rotations keep it, and
	// the family ends RefreshTTL after it.
	AuthTime time.Time
	// ValidUntil ends the family with the grace period of an old value it
	// was started with (nil: no such end).
	ValidUntil *time.Time
	IssuedAt   time.Time
	ExpiresAt  time.Time
	// RotatedAt is set once the token was exchanged for its successor.
	RotatedAt *time.Time
	// RevokedAt is set when the token was revoked (RFC 7009 or reuse).
	RevokedAt *time.Time
}

// RefreshStore keeps refresh tokens and their families.
type RefreshStore interface {
	// LookupRefresh returns the record of a token digest, nil when unknown.
	LookupRefresh(ctx context.Context, digest [sha256.Size]byte) (*RefreshRecord, error)
	// RotateRefresh marks old rotated, stores next, sets last_used on both
	// keys and counts one token of next.SecretKeyID in the minute of
	// next.IssuedAt, in one conditional write. ErrInvalidGrant when the
	// family was revoked or a key is gone, revoked, or rolled past next's
	// generations; else ErrRefreshConflict when old was rotated or revoked
	// meanwhile; else ErrRateLimited when the key already obtained limit
	// tokens in that minute (see Store.RecordExchange). A refused write
	// changes nothing.
	RotateRefresh(ctx context.Context, old [sha256.Size]byte, next RefreshRecord, limit int) error
	// RevokeFamily marks r revoked and bars every token of its family from
	// rotation until the given time, appending the audit event, in one
	// write.
	RevokeFamily(ctx context.Context, r RefreshRecord, at, until time.Time, event *audit.Event) error
}

// Refresh rotates a refresh token: it dies and a new pair is issued in the
// same family. A token that was already rotated is a reuse: the whole family
// is revoked. Both keys must still stand (KeyState.Admits). client, when
// set, must be the key pair the token was issued to. requested narrows the
// new access token's scope. Failures: ErrInvalidGrant, ErrInvalidScope,
// then a *Limited when the secret key obtained its tokens of the minute.
func (s *Service) Refresh(ctx context.Context, refreshToken string, client *Client, requested []string) (Tokens, error) {
	if !IsRefreshToken(refreshToken) {
		return Tokens{}, refusedGrant(ReasonMalformed)
	}
	digest := sha256.Sum256([]byte(refreshToken))
	rec, err := s.Store.LookupRefresh(ctx, digest)
	if err != nil {
		return Tokens{}, fmt.Errorf("lookup refresh token: %w", err)
	}
	if rec == nil {
		return Tokens{}, refusedGrant(ReasonUnknownKey)
	}
	now := s.now()
	if rec.RevokedAt != nil {
		return Tokens{}, refusedGrant(ReasonRefreshRevoked)
	}
	if rec.RotatedAt != nil {
		return Tokens{}, s.revokeReused(ctx, *rec, now)
	}
	if !now.Before(rec.ExpiresAt) {
		return Tokens{}, refusedGrant(ReasonExpired)
	}
	if rec.ValidUntil != nil && !now.Before(*rec.ValidUntil) {
		return Tokens{}, refusedGrant(ReasonGraceOver)
	}
	if client != nil && (client.PublicKeyID != rec.PublicKeyID || client.SecretKeyID != rec.SecretKeyID || client.MID != rec.MID) {
		return Tokens{}, refusedGrant(ReasonOtherClient) // RFC 6749 §5.2
	}
	states, err := s.Store.KeyStates(ctx, rec.SecretKeyID, rec.PublicKeyID)
	if err != nil {
		return Tokens{}, fmt.Errorf("read key states: %w", err)
	}
	if !admitsAll(states, rec.MID, now, KeyRef{rec.SecretKeyID, rec.SecretGen}, KeyRef{rec.PublicKeyID, rec.PublicGen}) {
		return Tokens{}, refusedGrant(ReasonKeyGone)
	}
	sc, err := narrow(scope.Split(rec.Scope), requested)
	if err != nil {
		return Tokens{}, err
	}
	t, err := s.issue(ctx, grant{
		subject: token.Subject{
			SecretKeyID: rec.SecretKeyID,
			PublicKeyID: rec.PublicKeyID,
			SecretGen:   rec.SecretGen,
			PublicGen:   rec.PublicGen,
			MID:         rec.MID,
			Scopes:      sc,
			AuthTime:    rec.AuthTime,
			NotAfter:    rec.ValidUntil,
		},
		family:       rec.FamilyID,
		refreshScope: rec.Scope,
		replaces:     &digest,
	})
	if errors.Is(err, ErrRefreshConflict) {
		return Tokens{}, s.revokeReused(ctx, *rec, now)
	}
	if errors.Is(err, ErrInvalidGrant) {
		return Tokens{}, refusedGrant(ReasonKeyGone) // family revoked or key gone meanwhile
	}
	return t, err
}

// revokeReused answers a reuse: the family is revoked, then the grant is
// refused. Only a failure to revoke is reported as itself.
func (s *Service) revokeReused(ctx context.Context, r RefreshRecord, now time.Time) error {
	ev := s.familyEvent(ctx, now, r, audit.RefreshReuseDetected, audit.Actor{Type: audit.ActorSystem})
	if err := s.Store.RevokeFamily(ctx, r, now, now.Add(RefreshTTL), ev); err != nil {
		return fmt.Errorf("revoke reused refresh family: %w", err)
	}
	return refusedGrant(ReasonRefreshReused)
}

// Revoke revokes a refresh token and its family (RFC 7009). Only the client
// the token was issued to may revoke it; an unknown, malformed, foreign or
// already revoked token is ignored, so the answer is the same for all.
func (s *Service) Revoke(ctx context.Context, client Client, refreshToken string) error {
	if !IsRefreshToken(refreshToken) {
		return nil
	}
	rec, err := s.Store.LookupRefresh(ctx, sha256.Sum256([]byte(refreshToken)))
	if err != nil {
		return fmt.Errorf("lookup refresh token: %w", err)
	}
	if rec == nil || rec.RevokedAt != nil || rec.PublicKeyID != client.PublicKeyID || rec.MID != client.MID {
		return nil
	}
	now := s.now()
	ev := s.familyEvent(ctx, now, *rec, audit.RefreshRevoked, audit.Actor{Type: audit.ActorAPIKey, ID: client.SecretKeyID})
	if err := s.Store.RevokeFamily(ctx, *rec, now, now.Add(RefreshTTL), ev); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// familyEvent is the audit event of a refresh family's revocation: the
// key it was minted from, never the token.
func (s *Service) familyEvent(ctx context.Context, now time.Time, r RefreshRecord, action string, actor audit.Actor) *audit.Event {
	return audit.New(ctx, now, s.Retention, r.MID, action, r.SecretKeyID, actor,
		map[string]any{"family": r.FamilyID, "client_id": r.PublicKeyID})
}

// refreshPrefix marks refresh tokens so scanners and humans can tell them apart.
const refreshPrefix = "rt_"

// refreshLen is the length of a refresh token: the prefix and 32 bytes in
// unpadded base64url.
const refreshLen = len(refreshPrefix) + 43

// newRefreshToken returns an opaque token with 256 random bits and its digest.
func newRefreshToken() (string, [sha256.Size]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", [sha256.Size]byte{}, fmt.Errorf("generate refresh token: %w", err)
	}
	t := refreshPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return t, sha256.Sum256([]byte(t)), nil
}

// IsRefreshToken reports whether t has the shape of a refresh token (and
// not, say, of an access token), so that garbage costs no read.
func IsRefreshToken(t string) bool {
	if len(t) != refreshLen || t[:len(refreshPrefix)] != refreshPrefix {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(t[len(refreshPrefix):])
	return err == nil
}
