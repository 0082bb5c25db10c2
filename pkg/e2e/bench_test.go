package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/dynamostore"
	"github.com/golang-jwt/jwt/v5"
)

// The benchmarks below time a handler and, in the same loop, the bare SDK
// calls that are its floor (DESIGN.md "Cost of a request"), and report the
// median of handler/floor over the iterations.

func timed(b *testing.B, h http.Handler, method, path string, header map[string]string, body string, want int) time.Duration {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, req)
	d := time.Since(start)
	if rec.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
	return d
}

func report(b *testing.B, handler, floor []time.Duration) {
	ratios := make([]float64, len(handler))
	for i := range handler {
		ratios[i] = float64(handler[i]) / float64(floor[i])
	}
	slices.Sort(ratios)
	slices.Sort(handler)
	slices.Sort(floor)
	b.ReportMetric(float64(handler[len(handler)/2].Microseconds())/1000, "handler-ms")
	b.ReportMetric(float64(floor[len(floor)/2].Microseconds())/1000, "floor-ms")
	b.ReportMetric(ratios[len(ratios)/2], "handler/floor")
}

func BenchmarkCreateKeyVsFloor(b *testing.B) {
	m := apitest.NewMerchant(b)
	h := apitest.Deps(nil).All()
	tok := apitest.TokenFor(b, m)
	body := `{"mid":"` + m.MID + `","name":"bench","type":"secret","scopes":["charges:read"]}`
	ctx := context.Background()
	createFloor := protectedFloor(b, tok, func() { createCalls(b, ctx, m.MID) })
	var handler, floor []time.Duration
	for b.Loop() {
		handler = append(handler, timed(b, h, "POST", "/v1/api-keys", apitest.Bearer(tok), body, 201))
		start := time.Now()
		createFloor()
		floor = append(floor, time.Since(start))
	}
	report(b, handler, floor)
}

// createCalls is one GenerateDataKey and the same TransactWriteItems a key
// creation sends (built by the store's own marshalling, items of the same
// shape and size), so the ratio measures everything around those two calls.
func createCalls(b *testing.B, ctx context.Context, mid string) {
	now := time.Now().UTC()
	id := apikey.NewID(now)
	ec := apikey.EncryptionContext(mid, id)
	dk, err := apitest.Env().Clients.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(apitest.Env().Config.DataKeyID), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		b.Fatal(err)
	}
	value, _ := apikey.NewValue(apikey.Secret, apikey.Sandbox)
	exp := now.Add(apikey.SecretReplayWindow)
	err = (&dynamostore.Store{Client: apitest.Env().Clients.DynamoDB, Table: apitest.Env().Config.TableName}).CreateKey(ctx, apikey.NewKey{
		Key:             apikey.Key{ID: id, MID: "floor_" + mid, Name: "bench", Type: apikey.Secret, Scopes: []string{"charges:read"}, CreatedAt: now, LastFour: apikey.LastFour(value)},
		Digest:          apikey.DigestOf(value),
		Sealed:          apikey.Sealed{EncryptedKey: dk.CiphertextBlob, Nonce: make([]byte, 12), Ciphertext: make([]byte, len(value)+16)},
		SealedExpiresAt: &exp,
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchTokenLimit is a token limit no benchmark reaches: the count is
// still written in every exchange's transaction, as in production.
const benchTokenLimit = 1 << 30

func BenchmarkTokenVsFloor(b *testing.B) {
	m := apitest.NewMerchant(b)
	d := apitest.Deps(nil)
	d.Config.TokenRateLimit = benchTokenLimit
	h := d.All()
	body := `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`
	pd, sd := apikey.DigestOf(m.AppKey), apikey.DigestOf(m.AppSecret)
	ctx := context.Background()
	var handler, floor []time.Duration
	for b.Loop() {
		handler = append(handler, timed(b, h, "POST", "/v1/oauth2/token", apitest.JSONCT, body, 200))
		start := time.Now()
		tokenFloor(b, ctx, pd[:], sd[:], m)
		floor = append(floor, time.Since(start))
	}
	report(b, handler, floor)
}

// tokenFloor is one BatchGetItem of the two digests, one KMS Sign, and the
// same TransactWriteItems an exchange sends (refresh token put, two
// last_used updates, the key's token count).
func tokenFloor(b *testing.B, ctx context.Context, pd, sd []byte, m apitest.Merchant) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	key := func(pk, sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
	}
	_, err := apitest.Env().Clients.DynamoDB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{apitest.Env().
		Config.TableName: {Keys: []map[string]types.AttributeValue{key("DIGEST#"+hex.EncodeToString(pd), "DIGEST"), key("DIGEST#"+hex.EncodeToString(sd), "DIGEST")}, ConsistentRead: aws.Bool(true)},
	}})
	if err != nil {
		b.Fatal(err)
	}
	digest := make([]byte, 32)
	if _, err := apitest.Env().Clients.KMS.Sign(ctx, &kms.SignInput{KeyId: aws.String(apitest.Env().Config.SigningKeyID), Message: digest, MessageType: kmstypes.MessageTypeDigest, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256}); err != nil {
		b.Fatal(err)
	}
	// The same transaction an exchange sends, built by the store.
	now := time.Now().UTC().Truncate(time.Second)
	rec := auth.RefreshRecord{FamilyID: apikey.NewID(now), SecretKeyID: m.SecretKeyID, PublicKeyID: m.PublicKeyID, MID: m.MID,
		Scope: strings.Join(m.Scopes, " "), AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(auth.RefreshTTL)}
	if _, err := rand.Read(rec.Digest[:]); err != nil {
		b.Fatal(err)
	}
	err = (&dynamostore.Store{Client: apitest.Env().Clients.DynamoDB, Table: apitest.Env().Config.TableName}).RecordExchange(ctx, rec, benchTokenLimit)
	if err != nil {
		b.Fatal(err)
	}
}

// protectedFloor adds to floor what DESIGN.md counts in the floor of every
// protected route: one ES256 verification of the bearer token in memory, by
// the JWT library with the KMS public key (fetched once, as a container does).
func protectedFloor(b *testing.B, tok string, floor func()) func() {
	keys, err := awskms.PublicKeys(apitest.Env().Clients.KMS, apitest.Env().Config.SigningKeyID)(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	pub := keys[apitest.Env().Config.SigningKeyID]
	keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
	return func() {
		if _, err := jwt.Parse(tok, keyFunc, jwt.WithValidMethods([]string{"ES256"})); err != nil {
			b.Fatal(err)
		}
		floor()
	}
}
