package dynamostore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

// keyPair stores a secret and a public key of one merchant.
func keyPair(t *testing.T, mid string) (sec, pub apikey.NewKey) {
	t.Helper()
	sec, _ = newKey(t, mid, apikey.Secret)
	pub, _ = newKey(t, mid, apikey.Public)
	for _, k := range []apikey.NewKey{sec, pub} {
		if err := store().CreateKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	return sec, pub
}

func TestKeyStatesReadsTheRecord(t *testing.T) {
	sec, pub := keyPair(t, "mid_state1")
	rolled, grace := "2024-11-16T12:00:00Z", "2024-11-16T13:00:00Z"
	_, err := env.Clients.DynamoDB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:        aws.String(env.Config.TableName),
		Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "KEY#" + sec.Key.ID}, "sk": &types.AttributeValueMemberS{Value: "META"}},
		UpdateExpression: aws.String("SET revoked = :t, revoked_at = :r, rolled_at = :r, previous_valid_until = :g, expires_at = :g"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true},
			":r": &types.AttributeValueMemberS{Value: rolled},
			":g": &types.AttributeValueMemberS{Value: grace},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	states, err := store().KeyStates(context.Background(), sec.Key.ID, pub.Key.ID, pub.Key.ID, "key_missing")
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 {
		t.Fatalf("states %+v", states)
	}
	s := states[sec.Key.ID]
	if !s.Revoked || s.RolledAt.Format(time.RFC3339) != rolled || s.PreviousValidUntil.Format(time.RFC3339) != grace || s.ExpiresAt.Format(time.RFC3339) != grace {
		t.Fatalf("secret state %+v", s)
	}
	if p := states[pub.Key.ID]; p.Revoked || p.RolledAt != nil || p.ExpiresAt != nil {
		t.Fatalf("public state %+v", p)
	}
}

func TestRotateRefreshIsConditional(t *testing.T) {
	ctx := context.Background()
	sec, pub := keyPair(t, "mid_state2")
	now := time.Now().UTC().Truncate(time.Second)
	rec := func(b byte) auth.RefreshRecord {
		r := auth.RefreshRecord{FamilyID: "fam_" + sec.Key.ID, SecretKeyID: sec.Key.ID, PublicKeyID: pub.Key.ID, SecretGen: 1, PublicGen: 1, MID: "mid_state2",
			Scope: "charges:read", AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		r.Digest[0], r.Digest[1] = b, 0xee
		return r
	}
	a, b, c, d := rec(1), rec(2), rec(3), rec(4)
	if err := store().RecordExchange(ctx, a, unlimited); err != nil {
		t.Fatal(err)
	}
	if err := store().RotateRefresh(ctx, a.Digest, b, unlimited); err != nil {
		t.Fatal(err)
	}
	if err := store().RotateRefresh(ctx, a.Digest, c, unlimited); !errors.Is(err, auth.ErrRefreshConflict) {
		t.Fatalf("second rotation of a: %v", err)
	}
	if got, _ := store().LookupRefresh(ctx, c.Digest); got != nil {
		t.Fatal("a failed rotation stored its successor")
	}
	gotA, err := store().LookupRefresh(ctx, a.Digest)
	if err != nil || gotA == nil || gotA.RotatedAt == nil || gotA.FamilyID != a.FamilyID || !gotA.AuthTime.Equal(now) || !gotA.ExpiresAt.Equal(a.ExpiresAt) {
		t.Fatalf("tombstone %+v %v", gotA, err)
	}
	if err := store().RevokeFamily(ctx, b, now, now.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if err := store().RotateRefresh(ctx, b.Digest, d, unlimited); !errors.Is(err, auth.ErrInvalidGrant) {
		t.Fatalf("rotation in a revoked family: %v", err)
	}
	if gotB, _ := store().LookupRefresh(ctx, b.Digest); gotB == nil || gotB.RevokedAt == nil || gotB.RotatedAt != nil {
		t.Fatalf("revoked record %+v", gotB)
	}
	if got, _ := store().LookupRefresh(ctx, [32]byte{9, 9}); got != nil {
		t.Fatal("an unknown digest has a record")
	}
}

// TestExchangeWritesAreConditionedOnTheGeneration: a roll that commits
// between an exchange's lookup and its write fails the write, so no refresh
// token of the old value is left behind; during a grace period the value
// before the current one may still exchange, an older one never.
func TestExchangeWritesAreConditionedOnTheGeneration(t *testing.T) {
	ctx := context.Background()
	sec, pub := keyPair(t, "mid_gen1")
	now := time.Now().UTC().Truncate(time.Second)
	roll := func(gen int64, grace time.Duration, old apikey.Digest, next string) {
		t.Helper()
		k := sec.Key
		until := now.Add(grace)
		k.RolledAt, k.PreviousValidUntil, k.Generation, k.LastFour = &now, &until, gen, "ABCD"
		if err := store().RollKey(ctx, apikey.Rollover{Key: k, OldDigest: old, NewDigest: apikey.DigestOf(next), KeepOld: grace > 0,
			Sealed: apikey.Sealed{EncryptedKey: []byte("e"), Nonce: []byte("n"), Ciphertext: []byte("c")}}); err != nil {
			t.Fatal(err)
		}
	}
	rec := func(b byte, gen int64) auth.RefreshRecord {
		r := auth.RefreshRecord{FamilyID: "fam_gen_" + string(rune('a'+b)), SecretKeyID: sec.Key.ID, PublicKeyID: pub.Key.ID, SecretGen: gen, PublicGen: 1,
			MID: "mid_gen1", Scope: "charges:read", AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		r.Digest[0], r.Digest[1] = b, 0xab
		return r
	}
	exchange := func(r auth.RefreshRecord) error {
		err := store().RecordExchange(ctx, r, unlimited)
		if stored, _ := store().LookupRefresh(ctx, r.Digest); (err == nil) != (stored != nil) {
			t.Fatalf("exchange of generation %d: err %v, stored %v", r.SecretGen, err, stored != nil)
		}
		return err
	}

	roll(2, 0, sec.Digest, "value 2") // no grace, in the same second
	if err := exchange(rec(1, 1)); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("generation 1 after a roll without grace: %v", err)
	}
	if err := exchange(rec(2, 2)); err != nil {
		t.Fatalf("generation 2: %v", err)
	}
	roll(3, time.Hour, apikey.DigestOf("value 2"), "value 3")
	if err := exchange(rec(3, 2)); err != nil {
		t.Fatalf("generation 2 in the grace of the next roll: %v", err)
	}
	if err := exchange(rec(4, 1)); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("generation 1 after two rolls: %v", err)
	}
	if err := store().RotateRefresh(ctx, rec(2, 2).Digest, rec(5, 1), unlimited); !errors.Is(err, auth.ErrInvalidGrant) {
		t.Fatalf("rotation into generation 1: %v", err)
	}
	if err := store().RotateRefresh(ctx, rec(2, 2).Digest, rec(6, 3), unlimited); err != nil {
		t.Fatalf("rotation into generation 3: %v", err)
	}
}
