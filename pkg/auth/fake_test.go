package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/token"
	"github.com/flexfactor/credplane/pkg/token/tokentest"
)

// fakeStore is an in-memory Store with the same conditional semantics as
// the DynamoDB adapter.
type fakeStore struct {
	mu        sync.Mutex
	creds     map[apikey.Digest]*Credential
	states    map[string]KeyState
	refresh   map[[sha256.Size]byte]*RefreshRecord
	families  map[string]time.Time // revoked family -> until
	lastUsed  map[string]time.Time
	counts    map[string]int // tokens by secret key and minute
	reads     int            // KeyStates calls
	withdrawn int            // WithdrawIssue calls
	// writeErr, when set, fails RecordExchange and RotateRefresh, which
	// first call onWrite when it is set.
	writeErr error
	onWrite  func()
	lookups  int // LookupCredentials calls
	events   []audit.Event
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		creds:    map[apikey.Digest]*Credential{},
		states:   map[string]KeyState{},
		refresh:  map[[sha256.Size]byte]*RefreshRecord{},
		families: map[string]time.Time{},
		lastUsed: map[string]time.Time{},
		counts:   map[string]int{},
	}
}

// countKey names the count r is counted in.
func countKey(r RefreshRecord) string { return r.SecretKeyID + "#" + TokenMinute(r.IssuedAt).String() }

func (f *fakeStore) LookupCredentials(_ context.Context, a, b apikey.Digest) (*Credential, *Credential, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	return f.creds[a], f.creds[b], nil
}

// pairAdmitted is the adapter's condition on both key records: each still
// admits the generation r was minted from.
func (f *fakeStore) pairAdmitted(r RefreshRecord) bool {
	return admitsAll(f.states, r.MID, r.IssuedAt, KeyRef{r.SecretKeyID, r.SecretGen}, KeyRef{r.PublicKeyID, r.PublicGen})
}

// writing runs onWrite and returns writeErr.
func (f *fakeStore) writing() error {
	if f.onWrite != nil {
		f.onWrite()
	}
	return f.writeErr
}

func (f *fakeStore) RecordExchange(_ context.Context, r RefreshRecord, limit int) error {
	if err := f.writing(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !f.pairAdmitted(r):
		return apikey.ErrNotFound
	case f.counts[countKey(r)] >= limit:
		return ErrRateLimited
	}
	f.put(r)
	return nil
}

func (f *fakeStore) put(r RefreshRecord) {
	f.counts[countKey(r)]++
	f.refresh[r.Digest] = &r
	f.lastUsed[r.SecretKeyID], f.lastUsed[r.PublicKeyID] = r.IssuedAt, r.IssuedAt
}

func (f *fakeStore) KeyStates(_ context.Context, ids ...string) (map[string]KeyState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	out := map[string]KeyState{}
	for _, id := range ids {
		if st, ok := f.states[id]; ok {
			out[id] = st
		}
	}
	return out, nil
}

func (f *fakeStore) LookupRefresh(_ context.Context, d [sha256.Size]byte) (*RefreshRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.refresh[d]; ok {
		c := *r
		return &c, nil
	}
	return nil, nil
}

func (f *fakeStore) RotateRefresh(_ context.Context, old [sha256.Size]byte, next RefreshRecord, limit int) error {
	if err := f.writing(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, revoked := f.families[next.FamilyID]; revoked || !f.pairAdmitted(next) {
		return ErrInvalidGrant
	}
	r, ok := f.refresh[old]
	if !ok || r.RotatedAt != nil || r.RevokedAt != nil {
		return ErrRefreshConflict
	}
	if f.counts[countKey(next)] >= limit {
		return ErrRateLimited
	}
	at := next.IssuedAt
	r.RotatedAt = &at
	f.put(next)
	return nil
}

func (f *fakeStore) WithdrawIssue(_ context.Context, r RefreshRecord, replaced *[sha256.Size]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.withdrawn++
	rec, ok := f.refresh[r.Digest]
	if !ok {
		return errors.New("withdraw: no such token")
	}
	at := r.IssuedAt
	rec.RevokedAt = &at
	f.counts[countKey(r)]--
	if replaced != nil {
		f.refresh[*replaced].RotatedAt = nil
	}
	return nil
}

func (f *fakeStore) RevokeFamily(_ context.Context, r RefreshRecord, at, until time.Time, ev *audit.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev != nil {
		f.events = append(f.events, *ev)
	}
	if rec, ok := f.refresh[r.Digest]; ok && rec.RevokedAt == nil {
		rec.RevokedAt = &at
	}
	f.families[r.FamilyID] = until
	return nil
}

// fixture is a service over a fake store holding one merchant's key pair.
type fixture struct {
	svc               *Service
	store             *fakeStore
	now               time.Time
	appKey, appSecret string
	pubID, secID, mid string
	secretScopes      []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: newFakeStore(), now: time.Date(2024, 11, 16, 12, 0, 0, 0, time.UTC),
		pubID: "key_pub", secID: "key_sec", mid: "mid_1", secretScopes: []string{"api-keys:read", "api-keys:write", "charges:read"}}
	clock := func() time.Time { return f.now }
	f.svc = &Service{
		Store:  f.store,
		Issuer: &token.Issuer{Signer: tokentest.NewSigner(t), Issuer: "https://iss", Audience: "https://aud", Now: clock},
		Stage:  apikey.Sandbox,
		Now:    clock,
	}
	f.appKey = mustValue(t, apikey.Public)
	f.appSecret = mustValue(t, apikey.Secret)
	f.store.creds[apikey.DigestOf(f.appKey)] = &Credential{Digest: apikey.DigestOf(f.appKey), KeyID: f.pubID, MID: f.mid, Type: apikey.Public, Generation: 1}
	f.store.creds[apikey.DigestOf(f.appSecret)] = &Credential{Digest: apikey.DigestOf(f.appSecret), KeyID: f.secID, MID: f.mid, Type: apikey.Secret, Scopes: f.secretScopes, Generation: 1}
	f.store.states[f.pubID], f.store.states[f.secID] = f.state(), f.state()
	return f
}

// state is the standing of one of the fixture's keys, never rolled.
func (f *fixture) state() KeyState { return KeyState{MID: f.mid, Generation: 1} }

func mustValue(t *testing.T, typ apikey.Type) string {
	t.Helper()
	v, err := apikey.NewValue(typ, apikey.Sandbox)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
