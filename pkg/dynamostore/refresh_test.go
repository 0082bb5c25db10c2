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
		r := auth.RefreshRecord{FamilyID: "fam_" + sec.Key.ID, SecretKeyID: sec.Key.ID, PublicKeyID: pub.Key.ID, MID: "mid_state2",
			Scope: "charges:read", AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		r.Digest[0], r.Digest[1] = b, 0xee
		return r
	}
	a, b, c, d := rec(1), rec(2), rec(3), rec(4)
	if err := store().RecordExchange(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := store().RotateRefresh(ctx, a.Digest, b); err != nil {
		t.Fatal(err)
	}
	if err := store().RotateRefresh(ctx, a.Digest, c); !errors.Is(err, auth.ErrRefreshConflict) {
		t.Fatalf("second rotation of a: %v", err)
	}
	if got, _ := store().LookupRefresh(ctx, c.Digest); got != nil {
		t.Fatal("a failed rotation stored its successor")
	}
	gotA, err := store().LookupRefresh(ctx, a.Digest)
	if err != nil || gotA == nil || gotA.RotatedAt == nil || gotA.FamilyID != a.FamilyID || !gotA.AuthTime.Equal(now) || !gotA.ExpiresAt.Equal(a.ExpiresAt) {
		t.Fatalf("tombstone %+v %v", gotA, err)
	}
	if err := store().RevokeFamily(ctx, b, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := store().RotateRefresh(ctx, b.Digest, d); !errors.Is(err, auth.ErrInvalidGrant) {
		t.Fatalf("rotation in a revoked family: %v", err)
	}
	if gotB, _ := store().LookupRefresh(ctx, b.Digest); gotB == nil || gotB.RevokedAt == nil || gotB.RotatedAt != nil {
		t.Fatalf("revoked record %+v", gotB)
	}
	if got, _ := store().LookupRefresh(ctx, [32]byte{9, 9}); got != nil {
		t.Fatal("an unknown digest has a record")
	}
}
