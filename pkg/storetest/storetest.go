// Package storetest is the conformance suite of the storage ports the
// domain owns (apikey.Store and auth.Store). Every adapter of them runs it:
// the DynamoDB adapter on DynamoDB Local, the in-memory store without an
// emulator, so that tests written against the one hold for the other.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/auth"
)

// Store is every storage port the domain owns.
type Store interface {
	apikey.Store
	auth.Store
	audit.Store
}

// Run runs the contract's cases, each against a store from newStore. Every
// case uses merchants, key ids, digests, families and idempotency keys of
// its own, so the stores may share one table.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	groups := []struct {
		name  string
		cases []contractCase
	}{
		{"CreateKey", createCases},
		{"GetKey", getCases},
		{"ListKeys", listCases},
		{"RevokeKey", revokeCases},
		{"RollKey", rollCases},
		{"LookupCredentials", lookupCases},
		{"KeyStates", keyStateCases},
		{"RecordExchange", exchangeCases},
		{"RotateRefresh", rotateCases},
		{"LookupRefresh", lookupRefreshCases},
		{"RevokeFamily", revokeFamilyCases},
		{"TokenLimit", tokenLimitCases},
		{"WithdrawIssue", withdrawCases},
		{"ClaimIdempotencyKey", claimCases},
		{"TakeOverIdempotencyKey", takeOverCases},
		{"ReleaseIdempotencyKey", releaseCases},
		{"CreateKeyWithClaim", createWithClaimCases},
		{"Onboard", onboardCases},
		{"Audit", auditCases},
		{"Leaks", leakCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) { c.run(newFixture(t, newStore(t))) })
			}
		})
	}
}

// contractCase is one clause of a port method's contract.
type contractCase struct {
	name string
	run  func(f *fixture)
}

// fixture is what a case works with: a store, a merchant of its own and a
// clock reading in whole seconds (the case's "now").
type fixture struct {
	*testing.T
	st  Store
	ctx context.Context
	mid string
	now time.Time
	seq int
}

func newFixture(t *testing.T, st Store) *fixture {
	return &fixture{T: t, st: st, ctx: context.Background(), mid: newMID(), now: time.Now().UTC().Truncate(time.Second)}
}

// newMID returns a merchant id no other case uses.
func newMID() string { return "mid_" + strings.ToLower(rand.Text()[:16]) }

// randomDigest returns a digest no other case uses.
func randomDigest() [sha256.Size]byte { return sha256.Sum256([]byte(rand.Text())) }

// liveKey is a stored key as the case knows it: the record it wrote, the
// digest of the current value and of a previous one still in its grace.
type liveKey struct {
	Key      apikey.Key
	Digest   apikey.Digest
	Previous *apikey.Digest
}

// newKey returns a key of the fixture's merchant, not yet stored; each id
// is newer than the ones before it.
func (f *fixture) newKey(typ apikey.Type) apikey.NewKey {
	f.Helper()
	v, err := apikey.NewValue(typ, apikey.Sandbox)
	if err != nil {
		f.Fatal(err)
	}
	f.seq++
	k := apikey.Key{
		ID: apikey.NewID(f.now.Add(time.Duration(f.seq) * time.Millisecond)), MID: f.mid, Name: "key " + string(typ),
		Type: typ, Scopes: []string{"charges:read", "charges:write"}, CreatedAt: f.now, LastFour: apikey.LastFour(v),
		Generation: apikey.FirstGeneration,
	}
	return apikey.NewKey{Key: k, Digest: apikey.DigestOf(v), Sealed: sealed("first")}
}

// sealed is a sealed value recognisable by its tag.
func sealed(tag string) apikey.Sealed {
	return apikey.Sealed{EncryptedKey: []byte("edk " + tag), Nonce: []byte("nonce " + tag), Ciphertext: []byte("ct " + tag)}
}

// create stores nk and returns it as a live key.
func (f *fixture) create(nk apikey.NewKey) *liveKey {
	f.Helper()
	if err := f.st.CreateKey(f.ctx, nk); err != nil {
		f.Fatalf("create key: %v", err)
	}
	return &liveKey{Key: nk.Key, Digest: nk.Digest}
}

// key stores a new key of the type.
func (f *fixture) key(typ apikey.Type) *liveKey {
	f.Helper()
	return f.create(f.newKey(typ))
}

// pair is a merchant's secret and public key, as a token is minted from.
type pair struct{ sec, pub *liveKey }

func (f *fixture) pair() pair {
	f.Helper()
	return pair{sec: f.key(apikey.Secret), pub: f.key(apikey.Public)}
}

// rollover is the roll of k that apikey.Service.Roll would write at the
// fixture's now with the grace given: a new value, the old one kept for the
// grace, an earlier grace ended.
func (f *fixture) rollover(k *liveKey, grace time.Duration) apikey.Rollover {
	next := k.Key
	at, until := f.now, f.now.Add(grace)
	next.RolledAt, next.PreviousValidUntil = &at, &until
	next.Generation = k.Key.Generation + 1
	next.LastFour = fmt.Sprintf("%04d", next.Generation)
	return apikey.Rollover{
		Key: next, OldDigest: k.Digest, NewDigest: randomDigest(), KeepOld: grace > 0, Ended: k.Previous,
		Sealed: sealed(fmt.Sprint("generation ", next.Generation)),
	}
}

// roll rolls k with the grace given and updates it.
func (f *fixture) roll(k *liveKey, grace time.Duration) apikey.Rollover {
	f.Helper()
	r := f.rollover(k, grace)
	if err := f.st.RollKey(f.ctx, r); err != nil {
		f.Fatalf("roll key: %v", err)
	}
	k.apply(r)
	return r
}

// apply records a committed roll on k.
func (k *liveKey) apply(r apikey.Rollover) {
	k.Key.LastFour, k.Key.RolledAt, k.Key.PreviousValidUntil, k.Key.Generation = r.Key.LastFour, r.Key.RolledAt, r.Key.PreviousValidUntil, r.Key.Generation
	k.Digest, k.Previous = r.NewDigest, nil
	if r.KeepOld {
		old := r.OldDigest
		k.Previous = &old
	}
}

// revoke deletes k at the fixture's now.
func (f *fixture) revoke(k *liveKey) {
	f.Helper()
	at := f.now
	if err := f.st.RevokeKey(f.ctx, apikey.Revocation{ID: k.Key.ID, Digest: k.Digest, PreviousDigest: k.Previous, At: at}); err != nil {
		f.Fatalf("revoke key: %v", err)
	}
	k.Key.Revoked, k.Key.RevokedAt = true, &at
}

// get reads a key that must exist.
func (f *fixture) get(id string) apikey.StoredKey {
	f.Helper()
	sk, err := f.st.GetKey(f.ctx, id)
	if err != nil {
		f.Fatalf("get key %s: %v", id, err)
	}
	return sk
}

// lookup reads the lookup of one digest (nil when there is none).
func (f *fixture) lookup(d apikey.Digest) *auth.Credential {
	f.Helper()
	c, _, err := f.st.LookupCredentials(f.ctx, d, randomDigest())
	if err != nil {
		f.Fatalf("lookup credentials: %v", err)
	}
	return c
}

// token is a refresh token of a new family for p's current generations,
// issued at the fixture's now.
func (f *fixture) token(p pair) auth.RefreshRecord {
	return auth.RefreshRecord{
		Digest: randomDigest(), FamilyID: "fam_" + rand.Text(),
		SecretKeyID: p.sec.Key.ID, PublicKeyID: p.pub.Key.ID, SecretGen: p.sec.Key.Generation, PublicGen: p.pub.Key.Generation,
		MID: f.mid, Scope: "charges:read", AuthTime: f.now, IssuedAt: f.now, ExpiresAt: f.now.Add(auth.RefreshTTL),
	}
}

// successor is the token a rotation of r issues at the fixture's now.
func (f *fixture) successor(r auth.RefreshRecord) auth.RefreshRecord {
	r.Digest, r.IssuedAt = randomDigest(), f.now
	return r
}

// exchanged records a new family's token for p.
func (f *fixture) exchanged(p pair) auth.RefreshRecord {
	f.Helper()
	r := f.token(p)
	if err := f.st.RecordExchange(f.ctx, r, unlimited); err != nil {
		f.Fatalf("record exchange: %v", err)
	}
	return r
}

// refresh reads a refresh token's record (nil when unknown).
func (f *fixture) refresh(d [sha256.Size]byte) *auth.RefreshRecord {
	f.Helper()
	r, err := f.st.LookupRefresh(f.ctx, d)
	if err != nil {
		f.Fatalf("lookup refresh: %v", err)
	}
	return r
}

// errOther, as a wanted error, stands for any error that is none of the
// domain's: a write the table refuses for a reason no port names.
var errOther = errors.New("an error that is none of the domain's")

var domainErrors = []error{
	apikey.ErrNotFound, apikey.ErrDuplicateDigest, apikey.ErrConflict, apikey.ErrIdempotencyInFlight,
	auth.ErrInvalidGrant, auth.ErrRefreshConflict, auth.ErrRateLimited,
}

// checkErr fails the case unless err is want (nil: success; errOther: see there).
func (f *fixture) checkErr(what string, err, want error) {
	f.Helper()
	switch want {
	case nil:
		if err != nil {
			f.Fatalf("%s: %v, want success", what, err)
		}
	case errOther:
		if err == nil {
			f.Fatalf("%s succeeded, want an error", what)
		}
		for _, d := range domainErrors {
			if errors.Is(err, d) {
				f.Fatalf("%s: %v, want an error that is none of the domain's", what, err)
			}
		}
	default:
		if !errors.Is(err, want) {
			f.Fatalf("%s: %v, want %v", what, err, want)
		}
	}
}

// The show functions print what a read returns, times in UTC with every
// digit, so that two reads compare as strings and a difference shows.

func showTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func showTimep(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return showTime(*t)
}

func showKey(k apikey.Key) string {
	return fmt.Sprintf("id=%s mid=%s name=%q type=%s scopes=%q revoked=%t created=%s expires=%s used=%s revoked_at=%s four=%q rolled=%s prev_until=%s gen=%d",
		k.ID, k.MID, k.Name, k.Type, k.Scopes, k.Revoked, showTime(k.CreatedAt), showTimep(k.ExpiresAt), showTimep(k.LastUsed),
		showTimep(k.RevokedAt), k.LastFour, showTimep(k.RolledAt), showTimep(k.PreviousValidUntil), k.Generation)
}

func showCredential(c *auth.Credential) string {
	if c == nil {
		return "<nil>"
	}
	return fmt.Sprintf("digest=%x key=%s mid=%s type=%s scopes=%q expires=%s valid_until=%s gen=%d",
		c.Digest[:4], c.KeyID, c.MID, c.Type, c.Scopes, showTimep(c.ExpiresAt), showTimep(c.ValidUntil), c.Generation)
}

func showRefresh(r *auth.RefreshRecord) string {
	if r == nil {
		return "<nil>"
	}
	return fmt.Sprintf("digest=%x family=%s secret=%s/%d public=%s/%d mid=%s scope=%q auth=%s valid_until=%s issued=%s expires=%s rotated=%s revoked=%s",
		r.Digest[:4], r.FamilyID, r.SecretKeyID, r.SecretGen, r.PublicKeyID, r.PublicGen, r.MID, r.Scope, showTime(r.AuthTime),
		showTimep(r.ValidUntil), showTime(r.IssuedAt), showTime(r.ExpiresAt), showTimep(r.RotatedAt), showTimep(r.RevokedAt))
}

func showState(s auth.KeyState) string {
	return fmt.Sprintf("mid=%s revoked=%t expires=%s gen=%d rolled=%s prev_until=%s",
		s.MID, s.Revoked, showTimep(s.ExpiresAt), s.Generation, showTimep(s.RolledAt), showTimep(s.PreviousValidUntil))
}

func showClaim(r *apikey.IdempotencyRecord) string {
	if r == nil {
		return "<nil>"
	}
	return fmt.Sprintf("fingerprint=%x token=%s locked_until=%s done=%t key=%s",
		r.Fingerprint[:4], r.Token, showTime(r.LockedUntil), r.Done, r.KeyID)
}

// check fails the case when got and want differ.
func (f *fixture) check(what, got, want string) {
	f.Helper()
	if got != want {
		f.Fatalf("%s:\n got  %s\n want %s", what, got, want)
	}
}

func showSealed(s *apikey.Sealed) string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("edk=%q nonce=%q ct=%q", s.EncryptedKey, s.Nonce, s.Ciphertext)
}

func ptr[T any](v T) *T { return &v }
