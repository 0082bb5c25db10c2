package memstore

import (
	"context"
	"errors"
	"slices"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

// maxBatchKeys is the most keys one BatchGetItem reads.
const maxBatchKeys = 100

// LookupCredentials returns the lookups of two digests; an unknown digest
// yields nil.
func (st *Store) LookupCredentials(_ context.Context, a, b apikey.Digest) (*auth.Credential, *auth.Credential, error) {
	st.lock()
	defer st.mu.Unlock()
	return readCredential(st.lookups[a]), readCredential(st.lookups[b]), nil
}

func readCredential(c *auth.Credential) *auth.Credential {
	if c == nil {
		return nil
	}
	out := *c
	out.Scopes = scopes(c.Scopes)
	out.ExpiresAt, out.ValidUntil = clonep(c.ExpiresAt), clonep(c.ValidUntil)
	out.Generation = readGeneration(c.Generation)
	return &out
}

// KeyStates reads the standing of keys from their records; ids without a
// record are absent. Like the BatchGetItem behind the adapter, it refuses
// no ids at all and more than 100 different ones.
func (st *Store) KeyStates(_ context.Context, ids ...string) (map[string]auth.KeyState, error) {
	unique := slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(unique) == 0 || len(unique) > maxBatchKeys {
		return nil, errors.New("read key states: validation: 1 to 100 keys per read")
	}
	st.lock()
	defer st.mu.Unlock()
	out := make(map[string]auth.KeyState, len(unique))
	for _, id := range unique {
		r, ok := st.records[id]
		if !ok {
			continue
		}
		k := r.read()
		out[id] = auth.KeyState{
			MID: k.MID, Revoked: k.Revoked, ExpiresAt: k.ExpiresAt, Generation: k.Generation,
			RolledAt: k.RolledAt, PreviousValidUntil: k.PreviousValidUntil,
		}
	}
	return out, nil
}
