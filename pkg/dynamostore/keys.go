package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/flexfactor/credplane/pkg/apikey"
)

var _ apikey.Store = (*Store)(nil)

// CreateKey writes the key record, its unique digest lookup and its sealed
// value in one transaction: all three or none. With an idempotency claim,
// the same transaction marks the claim done, provided it is still held.
func (st *Store) CreateKey(ctx context.Context, nk apikey.NewKey) error {
	if err := checkSealed(nk.Sealed); err != nil {
		return err
	}
	var t txn
	st.addKey(&t, "", nk)
	if nk.Claim != nil {
		t.add(itemIdemClaim, st.completeClaim(*nk.Claim, nk.Key.ID))
	}
	st.addEvent(&t, nk.Event)
	why, err := st.write(ctx, &t)
	switch {
	case why.failed(itemIdemClaim):
		return apikey.ErrIdempotencyInFlight // the claim was taken over
	case why.failed(itemDigest):
		return apikey.ErrDuplicateDigest
	case why != nil:
		return fmt.Errorf("create key: condition failed: %w", err)
	case err != nil:
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

// checkSealed refuses a sealed value with a missing part: written as NULL
// it would read back as a value that can never be opened.
func checkSealed(s apikey.Sealed) error {
	if s.EncryptedKey == nil || s.Nonce == nil || s.Ciphertext == nil {
		return errors.New("dynamostore: a sealed value has a nil part")
	}
	return nil
}

// addKey adds the puts that create a key to t, each on the condition that
// its item is new: its record, its digest lookup (so the digest is unique)
// and its sealed value, named itemRecord, itemDigest and itemValue after
// prefix.
func (st *Store) addKey(t *txn, prefix string, nk apikey.NewKey) {
	k := nk.Key
	t.add(prefix+itemRecord, st.put(newKeyRecord(k, nk.Digest), absent()))
	t.add(prefix+itemDigest, st.put(newDigestLookup(nk.Digest, k), absent()))
	t.add(prefix+itemValue, st.put(newSealedValue(k.ID, nk.Sealed, nk.SealedExpiresAt), absent()))
}
