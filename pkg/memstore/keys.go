package memstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

// CreateKey writes the record, the unique digest lookup and the sealed
// value, and completes the idempotency claim when there is one: all or
// nothing. A claim no longer held fails it with ErrIdempotencyInFlight
// (before a taken digest, ErrDuplicateDigest); a taken id fails it too.
func (st *Store) CreateKey(_ context.Context, nk apikey.NewKey) error {
	if err := checkSealed(nk.Sealed); err != nil {
		return wrap("create key", err)
	}
	st.lock()
	defer st.mu.Unlock()
	k := nk.Key
	_, idTaken := st.records[k.ID]
	_, valueTaken := st.sealed[k.ID]
	_, digestTaken := st.lookups[nk.Digest]
	var c *claim
	if nk.Claim != nil {
		c = st.claims[claimID(*nk.Claim)]
		if !c.pendingFor(nk.Claim.Token) {
			return apikey.ErrIdempotencyInFlight // taken over or released
		}
	}
	switch {
	case digestTaken:
		return apikey.ErrDuplicateDigest
	case idTaken || valueTaken:
		return wrap("create key", errConditionFailed)
	}
	st.put(nk)
	if c != nil {
		c.complete(k.ID)
	}
	return nil
}

// put writes a new key's record, lookup and sealed value; the caller holds
// the lock and has checked the conditions.
func (st *Store) put(nk apikey.NewKey) {
	st.appendEvent(nk.Event)
	k := nk.Key
	st.records[k.ID] = &record{
		key: apikey.Key{
			ID: k.ID, MID: k.MID, Name: k.Name, Type: k.Type, Scopes: scopes(k.Scopes),
			CreatedAt: sec(k.CreatedAt), ExpiresAt: secp(k.ExpiresAt), LastFour: k.LastFour,
			Generation: k.Generation,
		},
		digest: nk.Digest,
	}
	st.lookups[nk.Digest] = lookupOf(nk.Digest, k)
	st.sealed[k.ID] = sealedOf(nk.Sealed, nk.SealedExpiresAt)
}

// lookupOf is the lookup item of a value of k: what authentication reads.
func lookupOf(d apikey.Digest, k apikey.Key) *auth.Credential {
	return &auth.Credential{
		Digest: d, KeyID: k.ID, MID: k.MID, Type: k.Type, Scopes: scopes(k.Scopes),
		ExpiresAt: secp(k.ExpiresAt), Generation: k.Generation,
	}
}

func sealedOf(s apikey.Sealed, expires *time.Time) *sealedValue {
	return &sealedValue{
		sealed: apikey.Sealed{
			EncryptedKey: slices.Clone(s.EncryptedKey),
			Nonce:        slices.Clone(s.Nonce),
			Ciphertext:   slices.Clone(s.Ciphertext),
		},
		expiresAt: secp(expires),
	}
}

// GetKey returns the record and its sealed value; ErrNotFound without a
// record.
func (st *Store) GetKey(_ context.Context, id string) (apikey.StoredKey, error) {
	st.lock()
	defer st.mu.Unlock()
	r, ok := st.records[id]
	if !ok {
		return apikey.StoredKey{}, apikey.ErrNotFound
	}
	sk := apikey.StoredKey{Key: r.read(), Digest: r.digest}
	if r.previousDigest != nil {
		d := *r.previousDigest
		sk.PreviousDigest = &d
	}
	if v, ok := st.sealed[id]; ok {
		s := sealedOf(v.sealed, nil).sealed
		sk.Sealed = &s
	}
	return sk, nil
}

// read returns a copy of the record's key as the adapter reads it.
// KeyIDByDigest returns the id of the key a lookup names.
func (st *Store) KeyIDByDigest(_ context.Context, d apikey.Digest) (string, error) {
	st.lock()
	defer st.mu.Unlock()
	if c, ok := st.lookups[d]; ok {
		return c.KeyID, nil
	}
	return "", apikey.ErrNotFound
}

// EndGrace ends a rolled key's grace period at once, provided the record is
// unrevoked and still names g.PreviousDigest (else ErrConflict): the old
// lookup goes, previous_valid_until becomes g.At.
func (st *Store) EndGrace(_ context.Context, g apikey.GraceEnd) error {
	st.lock()
	defer st.mu.Unlock()
	rec, ok := st.records[g.ID]
	if !ok || rec.key.Revoked || rec.previousDigest == nil || *rec.previousDigest != g.PreviousDigest {
		return apikey.ErrConflict
	}
	delete(st.lookups, g.PreviousDigest)
	at := sec(g.At)
	rec.previousDigest, rec.key.PreviousValidUntil = nil, &at
	st.appendEvent(g.Event)
	return nil
}

func (r *record) read() apikey.Key {
	k := r.key
	k.Scopes = scopes(k.Scopes)
	k.ExpiresAt, k.LastUsed, k.RevokedAt = clonep(k.ExpiresAt), clonep(k.LastUsed), clonep(k.RevokedAt)
	k.RolledAt, k.PreviousValidUntil = clonep(k.RolledAt), clonep(k.PreviousValidUntil)
	k.Generation = readGeneration(k.Generation)
	return k
}

// ListKeys returns a merchant's keys newest first (by id, as the merchant
// index sorts them), starting after q.After whether or not that key
// exists, without revoked ones unless asked for; more reports whether
// another key follows the page.
func (st *Store) ListKeys(_ context.Context, q apikey.KeyQuery) ([]apikey.Key, bool, error) {
	if q.Limit < 0 {
		return nil, false, errors.New("list keys: validation: limit must be at least 0")
	}
	st.lock()
	defer st.mu.Unlock()
	var ids []string
	for id, r := range st.records {
		if r.key.MID == q.MID && (q.After == "" || id < q.After) && (q.IncludeRevoked || !r.key.Revoked) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return strings.Compare(b, a) })
	more := len(ids) > q.Limit
	if more {
		ids = ids[:q.Limit]
	}
	keys := make([]apikey.Key, len(ids))
	for i, id := range ids {
		keys[i] = st.records[id].read()
	}
	return keys, more, nil
}

// RevokeKey marks the record revoked and deletes the lookups of its current
// and previous values, provided the record is unrevoked and still holds
// r.Digest (else ErrConflict). The record keeps its digests and its sealed
// value.
func (st *Store) RevokeKey(_ context.Context, r apikey.Revocation) error {
	st.lock()
	defer st.mu.Unlock()
	rec, ok := st.records[r.ID]
	if !ok || rec.key.Revoked || rec.digest != r.Digest {
		return apikey.ErrConflict
	}
	if r.PreviousDigest != nil && *r.PreviousDigest == r.Digest {
		return wrap("revoke key", errSameItemTwice)
	}
	at := sec(r.At)
	rec.key.Revoked, rec.key.RevokedAt, rec.key.RevokedReason = true, &at, r.Reason
	st.appendEvent(r.Event)
	delete(st.lookups, r.Digest)
	if r.PreviousDigest != nil {
		delete(st.lookups, *r.PreviousDigest)
	}
	return nil
}

// RollKey gives a key its new value, provided the record is unrevoked and
// still holds r.OldDigest, and (when the old value is kept) the old lookup
// still exists: else ErrConflict; a taken new digest is ErrDuplicateDigest.
// The record changes only in its value fields (digest, last four, rolled
// at, previous valid until, generation, previous digest); the new lookup
// is made from r.Key.
func (st *Store) RollKey(_ context.Context, r apikey.Rollover) error {
	k := r.Key
	if k.RolledAt == nil || k.PreviousValidUntil == nil {
		return errors.New("roll key: RolledAt and PreviousValidUntil must be set")
	}
	if err := checkSealed(r.Sealed); err != nil {
		return wrap("roll key", err)
	}
	st.lock()
	defer st.mu.Unlock()
	rec, ok := st.records[k.ID]
	current := ok && !rec.key.Revoked && rec.digest == r.OldDigest
	_, newTaken := st.lookups[r.NewDigest]
	old, oldKept := st.lookups[r.OldDigest]
	switch {
	case newTaken:
		return apikey.ErrDuplicateDigest
	case !current, r.KeepOld && !oldKept:
		return apikey.ErrConflict
	}
	digests := []apikey.Digest{r.NewDigest, r.OldDigest}
	if r.Ended != nil {
		digests = append(digests, *r.Ended)
	}
	if !distinct(digests...) {
		return wrap("roll key", errSameItemTwice)
	}

	rolled, until := sec(*k.RolledAt), sec(*k.PreviousValidUntil)
	rec.digest, rec.key.LastFour, rec.key.Generation = r.NewDigest, k.LastFour, k.Generation
	rec.key.RolledAt, rec.key.PreviousValidUntil = &rolled, &until
	rec.previousDigest = nil
	st.lookups[r.NewDigest] = lookupOf(r.NewDigest, k)
	if r.KeepOld {
		prev := r.OldDigest
		rec.previousDigest = &prev
		v := until
		old.ValidUntil = &v
	} else {
		delete(st.lookups, r.OldDigest)
	}
	if r.Ended != nil {
		delete(st.lookups, *r.Ended)
	}
	st.sealed[k.ID] = sealedOf(r.Sealed, r.SealedExpiresAt)
	st.appendEvent(r.Event)
	return nil
}
