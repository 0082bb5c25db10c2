package apikey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/scope"
	"github.com/oklog/ulid/v2"
)

// Public validation messages of the lifecycle routes.
const (
	MsgInvalidLimit  = "Invalid limit value."
	MsgInvalidGrace  = "Invalid grace_seconds value."
	MsgInvalidStatus = "Invalid status value."
)

// MaxGrace is the longest an old value may keep working after a roll.
const MaxGrace = 24 * time.Hour

// Listing page sizes.
const (
	DefaultListLimit = 50
	MaxListLimit     = 100
)

// StoredKey is a key record as read for a lifecycle change: its metadata,
// the digest of its current value, the digest of the value it replaced when
// that one may still be in its grace period, and its sealed value when kept.
type StoredKey struct {
	Key            Key
	Digest         Digest
	PreviousDigest *Digest
	Sealed         *Sealed
}

// KeyQuery selects one page of a merchant's keys, newest first.
type KeyQuery struct {
	MID string
	// After is the id of the last key of the previous page ("" for the first).
	After          string
	Limit          int
	IncludeRevoked bool
}

// Revocation deletes a key: the record is marked revoked at At and the
// lookups of its current and previous values are removed, all at once,
// provided the record still has Digest (else ErrConflict).
type Revocation struct {
	ID             string
	Digest         Digest
	PreviousDigest *Digest
	At             time.Time
	// Reason is ReasonDeleted or ReasonLeaked.
	Reason string
	// Event is the audit event the same transaction appends.
	Event *audit.Event
}

// Rollover replaces a key's value in one transaction, provided the record
// still has OldDigest (else ErrConflict): the record gets the new digest,
// last four, RolledAt and PreviousValidUntil; the new value gets its lookup
// (ErrDuplicateDigest if taken) and its sealed item; the old lookup is
// deleted, or kept until PreviousValidUntil when KeepOld; Ended, the lookup
// of an earlier grace period still running, is deleted.
type Rollover struct {
	Key             Key
	OldDigest       Digest
	NewDigest       Digest
	KeepOld         bool
	Ended           *Digest
	Sealed          Sealed
	SealedExpiresAt *time.Time
	// Event is the audit event the same transaction appends.
	Event *audit.Event
}

// LifecycleStore reads and changes existing keys.
type LifecycleStore interface {
	// GetKey reads a key record and its sealed value with a strongly
	// consistent read; ErrNotFound when there is no such key.
	GetKey(ctx context.Context, id string) (StoredKey, error)
	// ListKeys returns up to q.Limit keys and whether more follow.
	ListKeys(ctx context.Context, q KeyQuery) (keys []Key, more bool, err error)
	RevokeKey(ctx context.Context, r Revocation) error
	RollKey(ctx context.Context, r Rollover) error
}

// View is a key as shown to its merchant: metadata, plus the value of a
// public or tokenization key (never a secret's).
type View struct {
	Key   Key
	Value string
}

// Get returns one of the caller's keys; another merchant's key is
// ErrNotFound, exactly like a missing one.
func (s *Service) Get(ctx context.Context, c Caller, id string) (View, error) {
	sk, err := s.owned(ctx, c, id)
	if err != nil {
		return View{}, err
	}
	v := View{Key: sk.Key}
	if sk.Key.Type != Secret && sk.Sealed != nil {
		plain, err := s.Sealer.Open(ctx, *sk.Sealed, EncryptionContext(sk.Key.MID, sk.Key.ID))
		if err != nil {
			return View{}, fmt.Errorf("open value: %w", err)
		}
		v.Value = string(plain)
	}
	return v, nil
}

// owned reads a key and hides it unless it belongs to the caller's merchant.
func (s *Service) owned(ctx context.Context, c Caller, id string) (StoredKey, error) {
	if !ValidID(id) {
		return StoredKey{}, ErrNotFound
	}
	sk, err := s.Store.GetKey(ctx, id)
	if err != nil {
		return StoredKey{}, err
	}
	if sk.Key.MID != c.MID {
		return StoredKey{}, ErrNotFound
	}
	return sk, nil
}

// manageable reads one of the caller's keys for a roll or a delete, which
// need a token holding every scope of the key: otherwise a narrow key could
// take over a more powerful one (roll) or lock its owner out (delete).
func (s *Service) manageable(ctx context.Context, c Caller, id string) (StoredKey, error) {
	sk, err := s.owned(ctx, c, id)
	if err != nil {
		return StoredKey{}, err
	}
	if missing := scope.Missing(c.Scopes, sk.Key.Scopes); len(missing) > 0 {
		return StoredKey{}, &ScopeError{Scopes: missing}
	}
	return sk, nil
}

// ValidID reports whether s has the shape of a key id: "key_" and a ULID in
// its canonical (upper-case) form, as NewID writes them.
func ValidID(s string) bool {
	rest, ok := strings.CutPrefix(s, "key_")
	if !ok {
		return false
	}
	id, err := ulid.ParseStrict(rest)
	return err == nil && id.String() == rest
}

// ListInput is a validated listing request.
type ListInput struct {
	MID            string
	Limit          int
	Cursor         string
	IncludeRevoked bool
}

// Page is one page of a listing; NextCursor is "" on the last page.
type Page struct {
	Keys       []Key
	NextCursor string
}

// List returns a page of the caller's keys, newest first. The cursor is
// bound to the merchant and the filter it was issued for.
func (s *Service) List(ctx context.Context, c Caller, in ListInput) (Page, error) {
	if in.MID != c.MID {
		return Page{}, ErrForeignMerchant
	}
	if len(s.CursorKey) < MinCursorKeyLen {
		return Page{}, errors.New("list: no cursor key configured")
	}
	if in.Limit < 1 || in.Limit > MaxListLimit {
		return Page{}, &ValidationError{Problems: []string{MsgInvalidLimit}}
	}
	pos := listPosition{MID: in.MID, IncludeRevoked: in.IncludeRevoked}
	if in.Cursor != "" {
		got, err := decodeCursor(s.CursorKey, in.Cursor)
		if err != nil || got.MID != pos.MID || got.IncludeRevoked != pos.IncludeRevoked {
			return Page{}, ErrInvalidCursor
		}
		pos.After = got.After
	}
	keys, more, err := s.Store.ListKeys(ctx, KeyQuery{MID: in.MID, After: pos.After, Limit: in.Limit, IncludeRevoked: in.IncludeRevoked})
	if err != nil {
		return Page{}, fmt.Errorf("list keys: %w", err)
	}
	p := Page{Keys: keys}
	if more && len(keys) > 0 {
		pos.After = keys[len(keys)-1].ID
		p.NextCursor = encodeCursor(s.CursorKey, pos)
	}
	return p, nil
}

// Deleted is the outcome of a delete.
type Deleted struct {
	Key Key
	// LastManager is set when the deleted key was the merchant's last
	// active secret key able to manage API keys.
	LastManager bool
}

// deleteAttempts bounds the re-reads when the key changes under a delete.
const deleteAttempts = 3

// Delete revokes one of the caller's keys: it can no longer authenticate,
// and its record stays for audit. Deleting a key that is already revoked
// succeeds again without changing it.
func (s *Service) Delete(ctx context.Context, c Caller, id string) (Deleted, error) {
	for range deleteAttempts {
		sk, err := s.manageable(ctx, c, id)
		if err != nil {
			return Deleted{}, err
		}
		if sk.Key.Revoked {
			return Deleted{Key: sk.Key}, nil
		}
		now := s.now()
		last := false
		if managesKeys(sk.Key, now) {
			if last, err = s.noOtherManager(ctx, sk.Key, now); err != nil {
				return Deleted{}, err
			}
		}
		at := now.Truncate(time.Second)
		ev := s.event(ctx, now, sk.Key, audit.KeyDeleted, actorOf(c), map[string]any{"type": string(sk.Key.Type), "name": sk.Key.Name, "last_manager": last})
		err = s.Store.RevokeKey(ctx, Revocation{ID: id, Digest: sk.Digest, PreviousDigest: sk.PreviousDigest, At: at, Reason: ReasonDeleted, Event: ev})
		if errors.Is(err, ErrConflict) {
			continue // rolled or deleted meanwhile: read it again
		}
		if err != nil {
			return Deleted{}, fmt.Errorf("revoke key: %w", err)
		}
		k := sk.Key
		k.Revoked, k.RevokedAt, k.RevokedReason = true, &at, ReasonDeleted
		return Deleted{Key: k, LastManager: last}, nil
	}
	return Deleted{}, ErrConflict
}

// managesKeys reports whether k is an active secret key that can manage
// API keys (create, delete and roll them).
func managesKeys(k Key, now time.Time) bool {
	return k.Type == Secret && k.StatusAt(now) == Active && scope.Contains(k.Scopes, scope.APIKeysWrite)
}

// noOtherManager reports whether no key of k's merchant but k manages keys.
func (s *Service) noOtherManager(ctx context.Context, k Key, now time.Time) (bool, error) {
	q := KeyQuery{MID: k.MID, Limit: MaxListLimit}
	for {
		keys, more, err := s.Store.ListKeys(ctx, q)
		if err != nil {
			return false, fmt.Errorf("list keys: %w", err)
		}
		for _, o := range keys {
			if o.ID != k.ID && managesKeys(o, now) {
				return false, nil
			}
		}
		if !more || len(keys) == 0 {
			return true, nil
		}
		q.After = keys[len(keys)-1].ID
	}
}

// Rolled is a key with its new value, shown once.
type Rolled struct {
	Key   Key
	Value string
}

// Roll gives one of the caller's active keys a new value; the old one keeps
// working for grace (0 to MaxGrace), then stops. Rolling during an earlier
// grace period ends that one at once. Id, type and scopes stay.
func (s *Service) Roll(ctx context.Context, c Caller, id string, grace time.Duration) (Rolled, error) {
	if grace < 0 || grace > MaxGrace {
		return Rolled{}, &ValidationError{Problems: []string{MsgInvalidGrace}}
	}
	sk, err := s.manageable(ctx, c, id)
	if err != nil {
		return Rolled{}, err
	}
	now := s.now()
	switch sk.Key.StatusAt(now) {
	case Revoked:
		return Rolled{}, ErrRevoked
	case Expired:
		return Rolled{}, ErrExpired
	}
	k := sk.Key
	at := now.Truncate(time.Second)
	until := at // stored times have whole seconds: round a grace up, never cut it
	if grace > 0 {
		until = now.Add(grace + time.Second - 1).Truncate(time.Second)
	}
	k.RolledAt, k.PreviousValidUntil = &at, &until
	k.Generation = sk.Key.Generation + 1
	ev := s.event(ctx, now, k, audit.KeyRolled, actorOf(c), map[string]any{
		"type": string(k.Type), "grace_seconds": int(grace / time.Second), "previous_valid_until": until.Format(time.RFC3339),
	})
	m, err := s.storeFresh(ctx, k, now, nil, func(m minted) error {
		k.LastFour = LastFour(m.value)
		return s.Store.RollKey(ctx, Rollover{
			Event:           ev,
			Key:             k,
			OldDigest:       sk.Digest,
			NewDigest:       m.digest,
			KeepOld:         grace > 0,
			Ended:           sk.PreviousDigest,
			Sealed:          m.sealed,
			SealedExpiresAt: m.sealedExpiresAt,
		})
	})
	if errors.Is(err, ErrConflict) {
		return Rolled{}, ErrConflict // never roll twice behind the caller's back
	}
	if err != nil {
		return Rolled{}, fmt.Errorf("roll key: %w", err)
	}
	return Rolled{Key: k, Value: m.value}, nil
}
