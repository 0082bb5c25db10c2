package apikey

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/scope"
	"github.com/oklog/ulid/v2"
)

// SecretReplayWindow is how long a secret value stays sealed in storage, only
// to replay its creation response to an idempotent retry.
const SecretReplayWindow = 24 * time.Hour

// Caller is the authenticated principal making a request.
type Caller struct {
	MID    string
	KeyID  string
	Scopes []string
}

// Created is a newly issued key with its value, shown once.
type Created struct {
	Key   Key
	Value string
}

// Service issues and manages API keys.
type Service struct {
	Store  Store
	Sealer Sealer
	Stage  Stage
	// CursorKey authenticates list cursors (at least MinCursorKeyLen bytes).
	CursorKey []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Retention is how long audit events are kept; zero means
	// audit.DefaultRetention.
	Retention time.Duration
}

// event is an audit event of a change made now for the caller's merchant.
func (s *Service) event(ctx context.Context, now time.Time, k Key, action string, actor audit.Actor, details map[string]any) *audit.Event {
	return audit.New(ctx, now, s.Retention, k.MID, action, k.ID, actor, details)
}

// actorOf is the caller as the audit trail names it.
func actorOf(c Caller) audit.Actor { return audit.Actor{Type: audit.ActorAPIKey, ID: c.KeyID} }

// keyDetails are what the trail records of a key: never its value.
func keyDetails(k Key) map[string]any {
	d := map[string]any{"type": string(k.Type), "name": k.Name, "scopes": k.Scopes}
	if k.ExpiresAt != nil {
		d["expires_at"] = k.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return d
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// NewID returns a fresh key id: "key_" and a ULID, so ids sort by creation.
func NewID(t time.Time) string {
	return "key_" + ulid.MustNew(ulid.Timestamp(t), rand.Reader).String()
}

// Create issues a key for the caller's merchant. The caller may only grant
// scopes it holds itself.
func (s *Service) Create(ctx context.Context, c Caller, in CreateInput) (Created, error) {
	k, err := prepare(c, in)
	if err != nil {
		return Created{}, err
	}
	now := s.now()
	return s.issue(ctx, c, fresh(k, now), now, nil, nil)
}

// prepare checks that the caller may create the key and returns its record.
func prepare(c Caller, in CreateInput) (Key, error) {
	if in.MID != c.MID {
		return Key{}, ErrForeignMerchant
	}
	k := in.withDefaults(c)
	if missing := scope.Missing(c.Scopes, k.Scopes); len(missing) > 0 {
		return Key{}, &EscalationError{Scopes: missing}
	}
	return k, nil
}

// withDefaults is the key a request asks c for, with the type's default
// scopes when it names none.
func (in CreateInput) withDefaults(c Caller) Key {
	scopes := in.Scopes
	if scopes == nil {
		scopes = DefaultScopes(in.Type, c.Scopes)
	}
	return Key{
		MID:       in.MID,
		Name:      in.Name,
		Type:      in.Type,
		Scopes:    scopes,
		ExpiresAt: in.ExpiresAt,
	}
}

// issue stores k, a fresh key (see fresh), with a new value and its audit
// event, completing claim in the same write when set. m, when set, is the
// value already minted for k.
func (s *Service) issue(ctx context.Context, c Caller, k Key, now time.Time, claim *IdempotencyClaim, m *minted) (Created, error) {
	ev := s.event(ctx, now, k, audit.KeyCreated, actorOf(c), keyDetails(k))
	stored, err := s.storeFresh(ctx, k, now, m, func(m minted) error {
		nk := m.newKey(k, claim)
		nk.Event = ev
		return s.Store.CreateKey(ctx, nk)
	})
	if err != nil {
		return Created{}, fmt.Errorf("store key: %w", err)
	}
	k.LastFour = LastFour(stored.value)
	return Created{Key: k, Value: stored.value}, nil
}

// fresh gives a new key its id, creation time and first generation.
func fresh(k Key, now time.Time) Key {
	k.CreatedAt = now.Truncate(time.Second)
	k.ID = NewID(now)
	k.Generation = FirstGeneration
	return k
}

// mintAttempts bounds the values tried when a digest is already taken (never
// seen in practice with 178 random bits).
const mintAttempts = 3

// storeFresh hands a value for k to store, first, when set, and then
// minted ones, minting again while store finds its digest taken
// (ErrDuplicateDigest).
func (s *Service) storeFresh(ctx context.Context, k Key, now time.Time, first *minted, store func(minted) error) (minted, error) {
	for attempt := 1; ; attempt++ {
		var m minted
		var err error
		if attempt == 1 && first != nil {
			m = *first
		} else if m, err = s.mint(ctx, k, now); err != nil {
			return minted{}, err
		}
		err = store(m)
		if errors.Is(err, ErrDuplicateDigest) && attempt < mintAttempts {
			continue
		}
		return m, err
	}
}

// minted is a fresh value for a key, its digest, and the value sealed under
// the key's encryption context.
type minted struct {
	value           string
	digest          Digest
	sealed          Sealed
	sealedExpiresAt *time.Time
}

// newKey is what storing k with this value writes, completing claim in the
// same write when set.
func (m minted) newKey(k Key, claim *IdempotencyClaim) NewKey {
	k.LastFour = LastFour(m.value)
	return NewKey{Key: k, Digest: m.digest, Sealed: m.sealed, SealedExpiresAt: m.sealedExpiresAt, Claim: claim}
}

// mint generates and seals a new value for k (whose ID and MID are set). A
// secret's sealed value expires after SecretReplayWindow: it only serves the
// replay of an idempotent request.
func (s *Service) mint(ctx context.Context, k Key, now time.Time) (minted, error) {
	value, err := NewValue(k.Type, s.Stage)
	if err != nil {
		return minted{}, fmt.Errorf("generate value: %w", err)
	}
	sealed, err := s.Sealer.Seal(ctx, []byte(value), EncryptionContext(k.MID, k.ID))
	if err != nil {
		return minted{}, fmt.Errorf("seal value: %w", err)
	}
	m := minted{value: value, digest: DigestOf(value), sealed: sealed}
	if k.Type == Secret {
		exp := now.Add(SecretReplayWindow)
		m.sealedExpiresAt = &exp
	}
	return m, nil
}
