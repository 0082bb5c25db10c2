package apikey

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/flexfactor/credplane/pkg/audit"
)

var testCursorKey = []byte(strings.Repeat("k", MinCursorKeyLen))

// fakeStore keeps keys, digest lookups and idempotency records in memory
// with the same all-or-nothing and conditional semantics as the table.
type fakeStore struct {
	mu      sync.Mutex
	created []NewKey
	// collisions makes that many CreateKey, RollKey or Onboard calls fail
	// as duplicate digests; conflicts makes that many writes fail as if the
	// record (or the onboarding claim) changed meanwhile.
	collisions, conflicts int
	records               map[string]*StoredKey
	digests               map[Digest]string // digest -> key id
	claims                map[string]*IdempotencyRecord
	claimExpiry           map[string]IdempotencyClaim
	released              int
	lists                 int
	events                []audit.Event
	// onboarded holds each merchant's onboarding claim (mid -> secret key id).
	onboarded map[string]string
	// listLag hides every key from ListKeys, as an index that has not
	// caught up yet; afterList, when set, runs once after a ListKeys (to
	// interleave a rival request between a check and its write).
	listLag   bool
	afterList func()
	// onClaim, when set, runs first in ClaimIdempotencyKey; claimErr then
	// fails it.
	onClaim  func()
	claimErr error
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		records:     map[string]*StoredKey{},
		digests:     map[Digest]string{},
		claims:      map[string]*IdempotencyRecord{},
		claimExpiry: map[string]IdempotencyClaim{},
		onboarded:   map[string]string{},
	}
}

func claimID(c IdempotencyClaim) string { return c.MID + "\x00" + c.CallerKeyID + "\x00" + c.Key }

func (f *fakeStore) CreateKey(_ context.Context, k NewKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.collided() {
		return ErrDuplicateDigest
	}
	var rec *IdempotencyRecord
	if k.Claim != nil {
		rec = f.claims[claimID(*k.Claim)]
		if rec == nil || rec.Done || rec.Token != k.Claim.Token {
			return ErrIdempotencyInFlight
		}
	}
	if _, dup := f.digests[k.Digest]; dup {
		return ErrDuplicateDigest
	}
	if rec != nil {
		rec.Done, rec.KeyID = true, k.Key.ID
	}
	f.put(k)
	return nil
}

// collided reports (and consumes) an injected digest collision; f.mu is held.
func (f *fakeStore) collided() bool {
	if f.collisions > 0 {
		f.collisions--
		return true
	}
	return false
}

// put stores a new key; f.mu is held.
// record appends an audit event written with a change.
func (f *fakeStore) record(ev *audit.Event) {
	if ev != nil {
		f.events = append(f.events, *ev)
	}
}

func (f *fakeStore) put(k NewKey) {
	f.record(k.Event)
	f.created = append(f.created, k)
	sealed := k.Sealed
	f.records[k.Key.ID] = &StoredKey{Key: k.Key, Digest: k.Digest, Sealed: &sealed}
	f.digests[k.Digest] = k.Key.ID
}

func (f *fakeStore) OnboardingClaim(_ context.Context, mid string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.onboarded[mid], nil
}

func (f *fakeStore) Onboard(_ context.Context, o Onboarding) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.collided() {
		return ErrDuplicateDigest
	}
	if f.conflicts > 0 || f.onboarded[o.Secret.Key.MID] != o.Seen {
		f.conflicts = max(f.conflicts-1, 0)
		return ErrConflict
	}
	_, dupPub := f.digests[o.Public.Digest]
	_, dupSec := f.digests[o.Secret.Digest]
	if dupPub || dupSec || o.Public.Digest == o.Secret.Digest {
		return ErrDuplicateDigest
	}
	f.put(o.Public)
	sec := o.Secret
	sec.Event = o.Event
	f.put(sec)
	f.onboarded[o.Secret.Key.MID] = o.Secret.Key.ID
	return nil
}

func (f *fakeStore) GetKey(_ context.Context, id string) (StoredKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[id]
	if !ok {
		return StoredKey{}, ErrNotFound
	}
	out := *r
	out.Key.Scopes = slices.Clone(r.Key.Scopes)
	return out, nil
}

func (f *fakeStore) ListKeys(_ context.Context, q KeyQuery) ([]Key, bool, error) {
	keys, more := f.list(q)
	f.mu.Lock()
	hook := f.afterList
	f.afterList = nil
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return keys, more, nil
}

func (f *fakeStore) list(q KeyQuery) ([]Key, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.listLag {
		return nil, false
	}
	var ids []string
	for id, r := range f.records {
		if r.Key.MID == q.MID && (q.IncludeRevoked || !r.Key.Revoked) && (q.After == "" || id < q.After) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	more := len(ids) > q.Limit
	if more {
		ids = ids[:q.Limit]
	}
	out := make([]Key, len(ids))
	for i, id := range ids {
		out[i] = f.records[id].Key
	}
	return out, more
}

// changed reports (and consumes) an injected conflict, or a record that no
// longer matches the digest read.
func (f *fakeStore) changed(id string, d Digest) bool {
	if f.conflicts > 0 {
		f.conflicts--
		return true
	}
	r, ok := f.records[id]
	return !ok || r.Key.Revoked || r.Digest != d
}

func (f *fakeStore) RevokeKey(_ context.Context, rv Revocation) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changed(rv.ID, rv.Digest) {
		return ErrConflict
	}
	r := f.records[rv.ID]
	at := rv.At
	r.Key.Revoked, r.Key.RevokedAt, r.Key.RevokedReason = true, &at, rv.Reason
	f.record(rv.Event)
	delete(f.digests, rv.Digest)
	if rv.PreviousDigest != nil {
		delete(f.digests, *rv.PreviousDigest)
	}
	return nil
}

func (f *fakeStore) RollKey(_ context.Context, ro Rollover) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.collided() {
		return ErrDuplicateDigest
	}
	if f.changed(ro.Key.ID, ro.OldDigest) {
		return ErrConflict
	}
	if _, dup := f.digests[ro.NewDigest]; dup {
		return ErrDuplicateDigest
	}
	r := f.records[ro.Key.ID]
	r.Key, r.Digest = ro.Key, ro.NewDigest
	f.record(ro.Event)
	sealed := ro.Sealed
	r.Sealed = &sealed
	f.digests[ro.NewDigest] = ro.Key.ID
	if ro.Ended != nil {
		delete(f.digests, *ro.Ended)
	}
	r.PreviousDigest = nil
	if ro.KeepOld {
		old := ro.OldDigest
		r.PreviousDigest = &old
	} else {
		delete(f.digests, ro.OldDigest)
	}
	return nil
}

func (f *fakeStore) KeyIDByDigest(_ context.Context, d Digest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.digests[d]; ok {
		return id, nil
	}
	return "", ErrNotFound
}

func (f *fakeStore) EndGrace(_ context.Context, g GraceEnd) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[g.ID]
	if !ok || r.PreviousDigest == nil || *r.PreviousDigest != g.PreviousDigest {
		return ErrConflict
	}
	delete(f.digests, g.PreviousDigest)
	at := g.At
	r.PreviousDigest, r.Key.PreviousValidUntil = nil, &at
	f.record(g.Event)
	return nil
}

func (f *fakeStore) ClaimIdempotencyKey(_ context.Context, c IdempotencyClaim) (*IdempotencyRecord, error) {
	if f.onClaim != nil {
		f.onClaim()
	}
	if f.claimErr != nil {
		return nil, f.claimErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := claimID(c)
	if r, ok := f.claims[id]; ok && c.At.Before(f.claimExpiry[id].ExpiresAt) {
		out := *r
		return &out, nil
	}
	f.claims[id] = &IdempotencyRecord{Fingerprint: c.Fingerprint, Token: c.Token, LockedUntil: c.LockedUntil}
	f.claimExpiry[id] = c
	return nil, nil
}

func (f *fakeStore) TakeOverIdempotencyKey(_ context.Context, c IdempotencyClaim, stale string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := claimID(c)
	r, ok := f.claims[id]
	if !ok || r.Done || r.Token != stale {
		return ErrIdempotencyInFlight
	}
	r.Token, r.LockedUntil = c.Token, c.LockedUntil
	return nil
}

func (f *fakeStore) ReleaseIdempotencyKey(_ context.Context, c IdempotencyClaim) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := claimID(c)
	if r, ok := f.claims[id]; ok && !r.Done && r.Token == c.Token {
		delete(f.claims, id)
		f.released++
	}
	return nil
}
