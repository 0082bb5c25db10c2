package dynamostore_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/infra/localenv"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/dynamostore"
)

var env *localenv.Env

// unlimited is a token limit no test reaches.
const unlimited = 1 << 30

func TestMain(m *testing.M) {
	os.Exit(localenv.Main(m, func(e *localenv.Env) { env = e }))
}

func store() *dynamostore.Store {
	return &dynamostore.Store{Client: env.Clients.DynamoDB, Table: env.Config.TableName, AuditTable: env.Config.AuditTableName}
}

func newKey(t *testing.T, mid string, typ apikey.Type) (apikey.NewKey, string) {
	t.Helper()
	v, err := apikey.NewValue(typ, apikey.Sandbox)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	k := apikey.Key{ID: apikey.NewID(now), MID: mid, Name: "n", Type: typ, Scopes: []string{"charges:read"}, CreatedAt: now, LastFour: apikey.LastFour(v), Generation: apikey.FirstGeneration}
	return apikey.NewKey{Key: k, Digest: apikey.DigestOf(v), Sealed: apikey.Sealed{EncryptedKey: []byte("edk"), Nonce: []byte("nonce"), Ciphertext: []byte("ct")}}, v
}

// partition returns every item whose pk is pk, by sort key.
func partition(t *testing.T, pk string) []map[string]types.AttributeValue {
	t.Helper()
	out, err := env.Clients.DynamoDB.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(env.Config.TableName),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Items
}

// countItems counts the items whose pk is one of pks.
func countItems(t *testing.T, pks ...string) int {
	t.Helper()
	n := 0
	for _, pk := range pks {
		n += len(partition(t, pk))
	}
	return n
}

func TestCreateKeyWritesAllThreeItems(t *testing.T) {
	nk, _ := newKey(t, "mid_store1", apikey.Secret)
	if err := store().CreateKey(context.Background(), nk); err != nil {
		t.Fatal(err)
	}
	if got := countItems(t, "KEY#"+nk.Key.ID); got != 2 {
		t.Fatalf("key record + value: %d items, want 2", got)
	}
	pub, sec, err := store().LookupCredentials(context.Background(), nk.Digest, apikey.DigestOf("nothing"))
	if err != nil {
		t.Fatal(err)
	}
	if sec != nil || pub == nil || pub.KeyID != nk.Key.ID || pub.MID != "mid_store1" || pub.Type != apikey.Secret || !pub.Digest.Equal(nk.Digest) {
		t.Fatalf("lookup = %+v, %+v", pub, sec)
	}
}

func TestCreateKeyDuplicateDigestWritesNothing(t *testing.T) {
	first, _ := newKey(t, "mid_store2", apikey.Secret)
	if err := store().CreateKey(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	second, _ := newKey(t, "mid_store2", apikey.Secret)
	second.Digest = first.Digest // same value digest, new id
	err := store().CreateKey(context.Background(), second)
	if !errors.Is(err, apikey.ErrDuplicateDigest) {
		t.Fatalf("err = %v, want ErrDuplicateDigest", err)
	}
	if got := countItems(t, "KEY#"+second.Key.ID); got != 0 {
		t.Fatalf("a failed transaction left %d items behind", got)
	}
	c, _, err := store().LookupCredentials(context.Background(), first.Digest, apikey.DigestOf("x"))
	if err != nil || c.KeyID != first.Key.ID {
		t.Fatalf("the first key's lookup changed: %+v %v", c, err)
	}
}

func TestRecordExchangeTouchesBothKeys(t *testing.T) {
	sec, _ := newKey(t, "mid_store3", apikey.Secret)
	pub, _ := newKey(t, "mid_store3", apikey.Public)
	for _, k := range []apikey.NewKey{sec, pub} {
		if err := store().CreateKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	rec := auth.RefreshRecord{FamilyID: "f", SecretKeyID: sec.Key.ID, PublicKeyID: pub.Key.ID, SecretGen: 1, PublicGen: 1, MID: "mid_store3", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	rec.Digest[0] = 7
	if err := store().RecordExchange(context.Background(), rec, unlimited); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{sec.Key.ID, pub.Key.ID} {
		out, err := env.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
			TableName:      aws.String(env.Config.TableName),
			Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "KEY#" + id}, "sk": &types.AttributeValueMemberS{Value: "META"}},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			t.Fatal(err)
		}
		if lu, _ := out.Item["last_used"].(*types.AttributeValueMemberS); lu == nil || lu.Value != now.Format(time.RFC3339) {
			t.Fatalf("last_used of %s = %v", id, out.Item["last_used"])
		}
	}
	// A key that does not exist (deleted meanwhile) fails the whole write.
	rec.Digest[0] = 8
	rec.SecretKeyID = "key_missing"
	if err := store().RecordExchange(context.Background(), rec, unlimited); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if got := countItems(t, "REFRESH#08"+zeros(62)); got != 0 {
		t.Fatalf("refresh token stored for a missing key")
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}
