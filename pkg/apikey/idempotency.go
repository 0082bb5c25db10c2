package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flexfactor/credplane/pkg/parallel"
)

// Idempotent creation (Stripe semantics). A create carrying an idempotency
// key first claims it for the calling secret key with a conditional write
// (another key of the merchant using the same idempotency key makes its own
// request, and can never be handed this one's secret); the same
// transaction that writes the key then marks the claim done, so a key is
// created at most once per idempotency key however many requests race
// (no lock in memory: the table's conditions decide). Later requests with
// the key either replay the first response (201, the value read back from
// its KMS-sealed item), or are told that the first is still in flight, or
// that the key was first used with another request.

// IdempotencyWindow is how long a create's response is replayed.
const IdempotencyWindow = 24 * time.Hour

// IdempotencyLock is how long a claim holds back other requests with the
// same key. A claim older than this belongs to a request that died before
// writing (a create takes well under a second), so a retry takes it over;
// if the old request wakes up after all, its write fails on the claim and
// creates nothing.
const IdempotencyLock = 30 * time.Second

// MaxIdempotencyKeyLen is the longest idempotency key accepted.
const MaxIdempotencyKeyLen = 255

// MsgInvalidIdempotencyKey is the public message for a malformed key.
const MsgInvalidIdempotencyKey = "Invalid Idempotency-Key."

// ValidIdempotencyKey reports whether s is 1 to 255 printable ASCII characters.
func ValidIdempotencyKey(s string) bool {
	if len(s) == 0 || len(s) > MaxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Fingerprint identifies a request's content: two requests with the same
// idempotency key must have the same fingerprint.
type Fingerprint [sha256.Size]byte

// IdempotencyClaim is one request's hold on an idempotency key.
type IdempotencyClaim struct {
	MID string
	// CallerKeyID is the secret key behind the request: idempotency keys
	// belong to it, not to the whole merchant.
	CallerKeyID string
	// Key is the client's idempotency key; stores keep only its hash.
	Key         string
	Fingerprint Fingerprint
	// Token tells this claim from a later one that took it over.
	Token       string
	At          time.Time
	LockedUntil time.Time
	ExpiresAt   time.Time
}

// IdempotencyRecord is the stored state of an unexpired idempotency key.
type IdempotencyRecord struct {
	Fingerprint Fingerprint
	Token       string
	LockedUntil time.Time
	// Done is set, with KeyID, once the key was created.
	Done  bool
	KeyID string
}

// IdempotencyStore holds idempotency claims with conditional writes.
type IdempotencyStore interface {
	// ClaimIdempotencyKey records c unless the calling key holds an
	// unexpired record for the idempotency key; then it records nothing and
	// returns that record.
	ClaimIdempotencyKey(ctx context.Context, c IdempotencyClaim) (*IdempotencyRecord, error)
	// TakeOverIdempotencyKey replaces the pending claim whose token is stale
	// with c; ErrIdempotencyInFlight when that claim changed meanwhile.
	TakeOverIdempotencyKey(ctx context.Context, c IdempotencyClaim, stale string) error
	// ReleaseIdempotencyKey drops c if it is still pending, so that a retry
	// after a failed create need not wait for the lock to pass.
	ReleaseIdempotencyKey(ctx context.Context, c IdempotencyClaim) error
}

// CreateIdempotent is Create under an idempotency key, scoped to the
// calling secret key. replayed is set when the answer is the first
// request's. Errors: ErrIdempotencyMismatch (the key was used with another
// request), ErrIdempotencyInFlight (the first request has not finished),
// ErrReplayUnavailable (the created key was rolled or deleted since), and
// Create's.
func (s *Service) CreateIdempotent(ctx context.Context, c Caller, in CreateInput, idemKey string) (created Created, replayed bool, err error) {
	if !ValidIdempotencyKey(idemKey) {
		return Created{}, false, &ValidationError{Problems: []string{MsgInvalidIdempotencyKey}}
	}
	k, err := prepare(c, in)
	if err != nil {
		return Created{}, false, err
	}
	now := s.now()
	k = fresh(k, now)
	claim := IdempotencyClaim{
		MID:         c.MID,
		CallerKeyID: c.KeyID,
		Key:         idemKey,
		Fingerprint: k.fingerprint(),
		Token:       rand.Text(),
		At:          now,
		LockedUntil: now.Add(IdempotencyLock),
		ExpiresAt:   now.Add(IdempotencyWindow),
	}
	// The claim and the new value's data key need nothing from each other:
	// the key is minted while the claim is written. A request the claim
	// answers (a replay, a mismatch, one in flight) creates nothing, and
	// its data key is canceled and dropped; a data key that fails fails the
	// create, as it did when it was made after the claim.
	minting := parallel.Go(ctx, func(ctx context.Context) (minted, error) { return s.mint(ctx, k, now) })
	defer minting.Stop()
	prior, err := s.Store.ClaimIdempotencyKey(ctx, claim)
	if err != nil {
		return Created{}, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	// A claim bearing this request's token is its own: an attempt whose
	// answer was lost wrote it, and a retry of the same call found it.
	if prior != nil && prior.Token != claim.Token {
		switch {
		case prior.Fingerprint != claim.Fingerprint:
			return Created{}, false, ErrIdempotencyMismatch
		case prior.Done:
			minting.Stop()
			created, err := s.replay(ctx, c, prior.KeyID)
			return created, err == nil, err
		case now.Before(prior.LockedUntil):
			return Created{}, false, ErrIdempotencyInFlight
		}
		if err := s.Store.TakeOverIdempotencyKey(ctx, claim, prior.Token); err != nil {
			return Created{}, false, err
		}
	}
	m, err := minting.Wait()
	if err != nil {
		err = fmt.Errorf("store key: %w", err)
	} else {
		issueCtx, cancel := keepBack(ctx)
		created, err = s.issue(issueCtx, c, k, now, &claim, &m)
		cancel()
	}
	if err != nil && !errors.Is(err, ErrIdempotencyInFlight) {
		// Best effort: without it a retry waits for the lock to pass.
		if rerr := s.release(ctx, claim); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release idempotency key: %w", rerr))
		}
	}
	return created, false, err
}

// The release of a claim after a failed create runs when the failure may
// be the request's deadline itself. So a create whose context has a
// deadline keeps back a fifth of the time it has left (600 ms of a 3 s
// budget) for it, and the release runs until that deadline: the request
// still ends within its budget. Without a deadline, the release gets
// releaseTimeout.
const (
	releaseShare   = 5
	releaseTimeout = 500 * time.Millisecond
)

// keepBack returns ctx with an earlier deadline, when it has one, that
// leaves the release its share of the time.
func keepBack(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, d.Add(-time.Until(d)/releaseShare))
}

// release drops claim if it is still pending: until ctx's deadline, even
// when ctx was canceled.
func (s *Service) release(ctx context.Context, claim IdempotencyClaim) error {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(releaseTimeout)
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), d)
	defer cancel()
	return s.Store.ReleaseIdempotencyKey(ctx, claim)
}

// replay rebuilds the first response: the key's metadata does not change
// after creation, and its value is read back from its sealed item, which
// holds the created value until the key is rolled. A key rolled or deleted
// since has no first response any more: its value is never shown again.
func (s *Service) replay(ctx context.Context, c Caller, id string) (Created, error) {
	sk, err := s.Store.GetKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Created{}, ErrReplayUnavailable
	}
	if err != nil {
		return Created{}, fmt.Errorf("read created key: %w", err)
	}
	if sk.Key.MID != c.MID || sk.Key.RolledAt != nil || sk.Key.Revoked || sk.Sealed == nil {
		return Created{}, ErrReplayUnavailable
	}
	plain, err := s.Sealer.Open(ctx, *sk.Sealed, EncryptionContext(sk.Key.MID, sk.Key.ID))
	if err != nil {
		return Created{}, fmt.Errorf("open value: %w", err)
	}
	if !DigestOf(string(plain)).Equal(sk.Digest) {
		return Created{}, ErrReplayUnavailable
	}
	return Created{Key: sk.Key, Value: string(plain)}, nil
}

// Fingerprint identifies what the request asks of the caller c: the key it
// would create, after defaults (see Key.fingerprint).
func (in CreateInput) Fingerprint(c Caller) Fingerprint {
	return in.withDefaults(c).fingerprint()
}

// fingerprint hashes the key a request asks for, after defaults are
// applied, in a canonical form: member order, white space and duplicate
// scopes do not make two requests differ, and an omitted scopes list equals
// the explicit list it defaults to.
func (k Key) fingerprint() Fingerprint {
	var exp *string
	if k.ExpiresAt != nil {
		v := k.ExpiresAt.UTC().Format(time.RFC3339)
		exp = &v
	}
	b, err := json.Marshal(struct {
		MID       string   `json:"mid"`
		Name      string   `json:"name"`
		Type      Type     `json:"type"`
		Scopes    []string `json:"scopes"`
		ExpiresAt *string  `json:"expires_at"`
	}{k.MID, k.Name, k.Type, k.Scopes, exp})
	if err != nil {
		panic("apikey: fingerprint: " + err.Error()) // strings only: cannot fail
	}
	return sha256.Sum256(b)
}
