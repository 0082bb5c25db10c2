package dynamostore_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/dynamostore"
)

var bg = context.Background()

func mustCreate(t *testing.T, nk apikey.NewKey) {
	t.Helper()
	if err := store().CreateKey(bg, nk); err != nil {
		t.Fatal(err)
	}
}

func TestGetKeyReadsRecordAndSealedValue(t *testing.T) {
	nk, _ := newKey(t, "mid_life1", apikey.Public)
	mustCreate(t, nk)
	sk, err := store().GetKey(bg, nk.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sk.Key.ID != nk.Key.ID || sk.Key.MID != "mid_life1" || sk.Key.Type != apikey.Public || !slices.Equal(sk.Key.Scopes, nk.Key.Scopes) ||
		!sk.Key.CreatedAt.Equal(nk.Key.CreatedAt) || sk.Key.LastFour != nk.Key.LastFour || sk.Key.Revoked || sk.PreviousDigest != nil {
		t.Fatalf("read %+v", sk.Key)
	}
	if !sk.Digest.Equal(nk.Digest) || sk.Sealed == nil || string(sk.Sealed.Ciphertext) != "ct" || string(sk.Sealed.EncryptedKey) != "edk" {
		t.Fatalf("digest or sealed value wrong: %+v", sk.Sealed)
	}
	if _, err := store().GetKey(bg, apikey.NewID(time.Now())); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("missing key: err = %v", err)
	}
}

func TestRevokeKeyIsConditionedOnTheDigestRead(t *testing.T) {
	nk, _ := newKey(t, "mid_life2", apikey.Secret)
	mustCreate(t, nk)
	at := time.Now().UTC().Truncate(time.Second)
	err := store().RevokeKey(bg, apikey.Revocation{ID: nk.Key.ID, Digest: apikey.DigestOf("rolled meanwhile"), At: at})
	if !errors.Is(err, apikey.ErrConflict) {
		t.Fatalf("stale digest: err = %v, want ErrConflict", err)
	}
	if sk, _ := store().GetKey(bg, nk.Key.ID); sk.Key.Revoked {
		t.Fatal("a refused revocation changed the record")
	}
	if c, _, _ := store().LookupCredentials(bg, nk.Digest, apikey.DigestOf("other")); c == nil {
		t.Fatal("a refused revocation deleted the lookup")
	}
	if err := store().RevokeKey(bg, apikey.Revocation{ID: nk.Key.ID, Digest: nk.Digest, At: at}); err != nil {
		t.Fatal(err)
	}
	sk, _ := store().GetKey(bg, nk.Key.ID)
	if !sk.Key.Revoked || sk.Key.RevokedAt == nil || !sk.Key.RevokedAt.Equal(at) {
		t.Fatalf("revoked record %+v", sk.Key)
	}
	if c, _, _ := store().LookupCredentials(bg, nk.Digest, apikey.DigestOf("other")); c != nil {
		t.Fatal("the lookup survived")
	}
	// Twice: the record is already revoked.
	if err := store().RevokeKey(bg, apikey.Revocation{ID: nk.Key.ID, Digest: nk.Digest, At: at}); !errors.Is(err, apikey.ErrConflict) {
		t.Fatalf("second revocation: err = %v", err)
	}
}

func TestRollKeyIsAllOrNothing(t *testing.T) {
	nk, _ := newKey(t, "mid_life3", apikey.Secret)
	mustCreate(t, nk)
	taken, _ := newKey(t, "mid_life3", apikey.Secret)
	mustCreate(t, taken)
	now := time.Now().UTC().Truncate(time.Second)
	until := now.Add(time.Hour)
	k := nk.Key
	k.RolledAt, k.PreviousValidUntil, k.LastFour = &now, &until, "WXYZ"
	roll := apikey.Rollover{Key: k, OldDigest: nk.Digest, NewDigest: apikey.DigestOf("new value"), KeepOld: true, Sealed: apikey.Sealed{EncryptedKey: []byte("edk2"), Nonce: []byte("nonce2"), Ciphertext: []byte("ct2")}}

	stale := roll
	stale.OldDigest = apikey.DigestOf("not the current value")
	if err := store().RollKey(bg, stale); !errors.Is(err, apikey.ErrConflict) {
		t.Fatalf("stale digest: err = %v, want ErrConflict", err)
	}
	dup := roll
	dup.NewDigest = taken.Digest
	if err := store().RollKey(bg, dup); !errors.Is(err, apikey.ErrDuplicateDigest) {
		t.Fatalf("taken digest: err = %v, want ErrDuplicateDigest", err)
	}
	sk, _ := store().GetKey(bg, nk.Key.ID)
	if !sk.Digest.Equal(nk.Digest) || sk.Key.RolledAt != nil || string(sk.Sealed.Ciphertext) != "ct" {
		t.Fatalf("a refused roll changed the record: %+v", sk.Key)
	}
	old, _, _ := store().LookupCredentials(bg, nk.Digest, apikey.DigestOf("other"))
	if old == nil || old.ValidUntil != nil {
		t.Fatalf("a refused roll changed the old lookup: %+v", old)
	}

	if err := store().RollKey(bg, roll); err != nil {
		t.Fatal(err)
	}
	sk, _ = store().GetKey(bg, nk.Key.ID)
	if !sk.Digest.Equal(roll.NewDigest) || sk.PreviousDigest == nil || !sk.PreviousDigest.Equal(nk.Digest) ||
		!sk.Key.RolledAt.Equal(now) || !sk.Key.PreviousValidUntil.Equal(until) || sk.Key.LastFour != "WXYZ" || string(sk.Sealed.Ciphertext) != "ct2" {
		t.Fatalf("rolled record %+v", sk)
	}
	old, cur, _ := store().LookupCredentials(bg, nk.Digest, roll.NewDigest)
	if old == nil || old.ValidUntil == nil || !old.ValidUntil.Equal(until) || cur == nil || cur.KeyID != nk.Key.ID || cur.ValidUntil != nil {
		t.Fatalf("lookups after the roll: old %+v new %+v", old, cur)
	}
}

func TestListKeysReadsPastRunsOfRevokedKeys(t *testing.T) {
	const mid = "mid_life4"
	var ids []string
	for i := range 9 {
		nk, _ := newKey(t, mid, apikey.Public)
		nk.Key.ID = apikey.NewID(time.Now().Add(time.Duration(i) * time.Millisecond))
		mustCreate(t, nk)
		ids = append(ids, nk.Key.ID)
		if i >= 2 && i <= 7 { // six revoked keys between the newest and the two oldest
			if err := store().RevokeKey(bg, apikey.Revocation{ID: nk.Key.ID, Digest: nk.Digest, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	newestFirst := []string{ids[8], ids[1], ids[0]}
	var got []string
	q := apikey.KeyQuery{MID: mid, Limit: 2}
	for {
		keys, more, err := store().ListKeys(bg, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			got = append(got, k.ID)
		}
		if !more {
			break
		}
		q.After = keys[len(keys)-1].ID
	}
	if !slices.Equal(got, newestFirst) {
		t.Fatalf("listed %v, want %v", got, newestFirst)
	}
	all, more, _ := store().ListKeys(bg, apikey.KeyQuery{MID: mid, Limit: 9, IncludeRevoked: true})
	if len(all) != 9 || more || !all[1].Revoked || all[1].RevokedAt == nil {
		t.Fatalf("status=all: %d keys, more %v", len(all), more)
	}
}

// countingClient counts the reads the store makes.
type countingClient struct {
	dynamostore.Client
	gets atomic.Int32
}

func (c *countingClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.Client.GetItem(ctx, in, opts...)
}

func TestIdempotencyClaimTakeOverReleaseAndExpiry(t *testing.T) {
	cc := &countingClient{Client: env.Clients.DynamoDB}
	st := &dynamostore.Store{Client: cc, Table: env.Config.TableName}
	now := time.Now().UTC()
	claim := apikey.IdempotencyClaim{MID: "mid_life5", Key: "order-1", Token: "first", At: now, LockedUntil: now.Add(30 * time.Second), ExpiresAt: now.Add(24 * time.Hour)}
	claim.Fingerprint[0] = 1
	if prior, err := st.ClaimIdempotencyKey(bg, claim); prior != nil || err != nil {
		t.Fatalf("first claim: %+v %v", prior, err)
	}
	second := claim
	second.Token = "second"
	prior, err := st.ClaimIdempotencyKey(bg, second)
	if err != nil || prior == nil || prior.Token != "first" || prior.Done || prior.Fingerprint != claim.Fingerprint || !prior.LockedUntil.Equal(claim.LockedUntil.Truncate(time.Millisecond)) {
		t.Fatalf("second claim: %+v %v", prior, err)
	}
	t.Logf("the refused claim was read back with %d GetItem (0: from the failed write itself)", cc.gets.Load())

	if err := st.TakeOverIdempotencyKey(bg, second, "not the holder"); !errors.Is(err, apikey.ErrIdempotencyInFlight) {
		t.Fatalf("take-over with a wrong token: err = %v", err)
	}
	if err := st.TakeOverIdempotencyKey(bg, second, "first"); err != nil {
		t.Fatal(err)
	}
	// The first holder can no longer release (nor complete) it.
	if err := st.ReleaseIdempotencyKey(bg, claim); err != nil {
		t.Fatal(err)
	}
	if prior, _ := st.ClaimIdempotencyKey(bg, claim); prior == nil || prior.Token != "second" {
		t.Fatalf("after a stale release: %+v", prior)
	}
	nk, _ := newKey(t, "mid_life5", apikey.Secret)
	nk.Claim = &claim
	if err := st.CreateKey(bg, nk); !errors.Is(err, apikey.ErrIdempotencyInFlight) {
		t.Fatalf("completion by the stale holder: err = %v", err)
	}
	// The holder completes it with the key.
	nk.Claim = &second
	if err := st.CreateKey(bg, nk); err != nil {
		t.Fatal(err)
	}
	if prior, _ := st.ClaimIdempotencyKey(bg, claim); prior == nil || !prior.Done || prior.KeyID != nk.Key.ID {
		t.Fatalf("after completion: %+v", prior)
	}
	// Past the window the record counts as absent, even before the TTL sweep.
	late := claim
	late.Token, late.At = "late", claim.ExpiresAt
	if prior, err := st.ClaimIdempotencyKey(bg, late); prior != nil || err != nil {
		t.Fatalf("claim after expiry: %+v %v", prior, err)
	}
	// A released pending claim frees the key at once.
	if err := st.ReleaseIdempotencyKey(bg, late); err != nil {
		t.Fatal(err)
	}
	if prior, err := st.ClaimIdempotencyKey(bg, claim); prior != nil || err != nil {
		t.Fatalf("claim after release: %+v %v", prior, err)
	}
}
