package apikey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flexfactor/credplane/pkg/audit"
)

// Revocation reasons, shown as revoked_reason.
const (
	ReasonDeleted = "deleted"
	ReasonLeaked  = "leaked"
)

// LeakReport is a value a secret scanner found in public, with where.
type LeakReport struct {
	Value  string
	Source string
	URL    string
	// Partner names the scanner (e.g. "github").
	Partner string
}

// leakEvent is the audit event of a leak report that revoked a value.
func (s *Service) leakEvent(ctx context.Context, now time.Time, k Key, r LeakReport, which string) *audit.Event {
	return s.event(ctx, now, k, audit.KeyLeaked, audit.Actor{Type: audit.ActorSecretScanning, ID: r.Partner},
		map[string]any{"source": r.Source, "url": r.URL, "value": which})
}

// Leaked is what a report found: whether the value is one of this stage's
// keys, and what was done.
type Leaked struct {
	// Real is set when the value is (or was, within its grace) a key value.
	Real bool
	// Key is the key the value belongs to, when Real.
	Key Key
	// Action is "revoked" (a current secret or tokenization value),
	// "grace_ended" (the old value of a rolled key), or "" (nothing to do:
	// a public value, or a value already dealt with).
	Action string
	// Which is "current" or "previous": the value the report named.
	Which string
}

// GraceEnd ends the grace period of a rolled key's previous value at once:
// its lookup is deleted and the record's previous_valid_until set to At,
// provided the record still names PreviousDigest (else ErrConflict).
type GraceEnd struct {
	ID             string
	PreviousDigest Digest
	At             time.Time
	// Event is the audit event the same transaction appends.
	Event *audit.Event
}

// LeakStore finds a key by one of its values and ends a grace period.
type LeakStore interface {
	// KeyIDByDigest returns the id of the key whose current or previous
	// value has the digest; ErrNotFound when none does.
	KeyIDByDigest(ctx context.Context, d Digest) (string, error)
	EndGrace(ctx context.Context, g GraceEnd) error
}

// leakAttempts bounds the re-reads when the key changes under a report.
const leakAttempts = 3

// Leak answers a secret scanner's report of a value. A value whose shape
// or checksum is wrong, or that names no key of this stage, is not real.
// A current secret or tokenization value is revoked at once, as by DELETE
// (reason "leaked"); the old value of a rolled key loses the rest of its
// grace period, while the key and its new value stay; a public value is
// not a secret and nothing changes. A value already revoked changes
// nothing again.
func (s *Service) Leak(ctx context.Context, r LeakReport) (Leaked, error) {
	if _, err := ParseValue(r.Value, s.Stage); err != nil {
		return Leaked{}, nil
	}
	d := DigestOf(r.Value)
	for range leakAttempts {
		id, err := s.Store.KeyIDByDigest(ctx, d)
		if errors.Is(err, ErrNotFound) {
			return Leaked{}, nil
		}
		if err != nil {
			return Leaked{}, fmt.Errorf("find leaked value: %w", err)
		}
		sk, err := s.Store.GetKey(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return Leaked{}, nil
		}
		if err != nil {
			return Leaked{}, fmt.Errorf("read leaked key: %w", err)
		}
		out := Leaked{Real: true, Key: sk.Key, Which: "current"}
		at := s.now().Truncate(time.Second)
		switch {
		case sk.Key.Type == Public || sk.Key.Revoked:
			return out, nil
		case sk.Digest.Equal(d):
			err = s.Store.RevokeKey(ctx, Revocation{ID: id, Digest: sk.Digest, PreviousDigest: sk.PreviousDigest, At: at, Reason: ReasonLeaked,
				Event: s.leakEvent(ctx, at, sk.Key, r, "current")})
			out.Action = "revoked"
			out.Key.Revoked, out.Key.RevokedAt, out.Key.RevokedReason = true, &at, ReasonLeaked
		case sk.PreviousDigest != nil && sk.PreviousDigest.Equal(d):
			err = s.Store.EndGrace(ctx, GraceEnd{ID: id, PreviousDigest: d, At: at, Event: s.leakEvent(ctx, at, sk.Key, r, "previous")})
			out.Which, out.Action = "previous", "grace_ended"
			out.Key.PreviousValidUntil = &at
		default:
			return Leaked{Real: true, Key: sk.Key, Which: "previous"}, nil // its grace is already over
		}
		if errors.Is(err, ErrConflict) {
			continue // rolled or deleted meanwhile: judge it again
		}
		if err != nil {
			return Leaked{}, fmt.Errorf("revoke leaked value: %w", err)
		}
		return out, nil
	}
	return Leaked{}, ErrConflict
}
