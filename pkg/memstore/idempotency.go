package memstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
)

// claim is an idempotency record: pending until the create it guards
// completes it. ttl is the end of its window in Unix seconds, as the table
// keeps it; a done record has no lock.
type claim struct {
	fingerprint apikey.Fingerprint
	token       string
	lockedUntil time.Time // milliseconds
	done        bool
	keyID       string
	ttl         int64
}

// claimID is the record's key: one per merchant, calling key and
// idempotency key (kept as its hash).
func claimID(c apikey.IdempotencyClaim) string {
	h := sha256.Sum256([]byte(c.Key))
	return "IDEM#" + c.MID + "#" + c.CallerKeyID + "#" + hex.EncodeToString(h[:])
}

func millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// pendingFor reports whether the record exists, is pending and is held by
// the claim with token.
func (c *claim) pendingFor(token string) bool {
	return c != nil && !c.done && c.token == token
}

// complete marks the record done with the created key.
func (c *claim) complete(keyID string) {
	c.done, c.keyID, c.lockedUntil = true, keyID, time.Time{}
}

// ClaimIdempotencyKey records c pending unless the calling key holds a
// record for the idempotency key whose window has not ended at c.At (in
// whole seconds); then it records nothing and returns that record.
func (st *Store) ClaimIdempotencyKey(_ context.Context, c apikey.IdempotencyClaim) (*apikey.IdempotencyRecord, error) {
	st.lock()
	defer st.mu.Unlock()
	id := claimID(c)
	if old, ok := st.claims[id]; ok && old.ttl > c.At.Unix() {
		return &apikey.IdempotencyRecord{
			Fingerprint: old.fingerprint, Token: old.token, LockedUntil: old.lockedUntil,
			Done: old.done, KeyID: old.keyID,
		}, nil
	}
	st.claims[id] = &claim{
		fingerprint: c.Fingerprint, token: c.Token, lockedUntil: millis(c.LockedUntil), ttl: c.ExpiresAt.Unix(),
	}
	return nil, nil
}

// TakeOverIdempotencyKey hands the pending record held by stale to c (its
// token and lock; the fingerprint and window stay); ErrIdempotencyInFlight
// when it is gone, done, or held by another claim.
func (st *Store) TakeOverIdempotencyKey(_ context.Context, c apikey.IdempotencyClaim, stale string) error {
	st.lock()
	defer st.mu.Unlock()
	old := st.claims[claimID(c)]
	if !old.pendingFor(stale) {
		return apikey.ErrIdempotencyInFlight
	}
	old.token, old.lockedUntil = c.Token, millis(c.LockedUntil)
	return nil
}

// ReleaseIdempotencyKey deletes c's record if c still holds it pending;
// otherwise it does nothing.
func (st *Store) ReleaseIdempotencyKey(_ context.Context, c apikey.IdempotencyClaim) error {
	st.lock()
	defer st.mu.Unlock()
	id := claimID(c)
	if st.claims[id].pendingFor(c.Token) {
		delete(st.claims, id)
	}
	return nil
}
