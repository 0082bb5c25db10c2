package handlers_test

import (
	"context"
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
	m := newMerchant(b)
	h := deps(nil).All()
	tok := tokenFor(b, m)
	body := `{"mid":"` + m.MID + `","name":"bench","type":"secret","scopes":["charges:read"]}`
	ctx := context.Background()
	var handler, floor []time.Duration
	for b.Loop() {
		handler = append(handler, timed(b, h, "POST", "/v1/api-keys", bearer(tok), body, 201))
		start := time.Now()
		createFloor(b, ctx, m.MID)
		floor = append(floor, time.Since(start))
	}
	report(b, handler, floor)
}

// createFloor is one GenerateDataKey and one TransactWriteItems of three
// items of the same size as a key creation's.
func createFloor(b *testing.B, ctx context.Context, mid string) {
	id := apikey.NewID(time.Now())
	ec := apikey.EncryptionContext(mid, id)
	dk, err := env.Clients.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(env.Config.DataKeyID), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		b.Fatal(err)
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	put := func(pk, sk string, extra map[string]types.AttributeValue) types.TransactWriteItem {
		item := map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
		for k, v := range extra {
			item[k] = v
		}
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(env.Config.TableName), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}}
	}
	_, err = env.Clients.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put("FLOOR#"+id, "META", map[string]types.AttributeValue{"gsi1pk": s("FLOORMID#" + mid), "gsi1sk": s(id), "mid": s(mid), "name": s("bench"), "type": s("secret"), "created_at": s(time.Now().Format(time.RFC3339))}),
		put("FLOORD#"+id, "DIGEST", map[string]types.AttributeValue{"key_id": s(id), "digest": &types.AttributeValueMemberB{Value: make([]byte, 32)}}),
		put("FLOOR#"+id, "VALUE", map[string]types.AttributeValue{"edk": &types.AttributeValueMemberB{Value: dk.CiphertextBlob}, "ct": &types.AttributeValueMemberB{Value: make([]byte, 60)}}),
	}})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkTokenVsFloor(b *testing.B) {
	m := newMerchant(b)
	h := deps(nil).All()
	body := `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`
	pd, sd := apikey.DigestOf(m.AppKey), apikey.DigestOf(m.AppSecret)
	ctx := context.Background()
	var handler, floor []time.Duration
	for b.Loop() {
		handler = append(handler, timed(b, h, "POST", "/v1/oauth2/token", jsonCT, body, 200))
		start := time.Now()
		tokenFloor(b, ctx, pd[:], sd[:], m)
		floor = append(floor, time.Since(start))
	}
	report(b, handler, floor)
}

// tokenFloor is one BatchGetItem of the two digests, one KMS Sign, and one
// TransactWriteItems (refresh token put + two last_used updates).
func tokenFloor(b *testing.B, ctx context.Context, pd, sd []byte, m merchant) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	key := func(pk, sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
	}
	_, err := env.Clients.DynamoDB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		env.Config.TableName: {Keys: []map[string]types.AttributeValue{key("DIGEST#"+hex.EncodeToString(pd), "DIGEST"), key("DIGEST#"+hex.EncodeToString(sd), "DIGEST")}, ConsistentRead: aws.Bool(true)},
	}})
	if err != nil {
		b.Fatal(err)
	}
	digest := make([]byte, 32)
	if _, err := env.Clients.KMS.Sign(ctx, &kms.SignInput{KeyId: aws.String(env.Config.SigningKeyID), Message: digest, MessageType: kmstypes.MessageTypeDigest, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256}); err != nil {
		b.Fatal(err)
	}
	now := s(time.Now().Format(time.RFC3339))
	touch := func(id string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(env.Config.TableName), Key: key("KEY#"+id, "META"),
			UpdateExpression: aws.String("SET last_used = :n"), ConditionExpression: aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": now}}}
	}
	_, err = env.Clients.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(env.Config.TableName), Item: map[string]types.AttributeValue{"pk": s("FLOORR#" + apikey.NewID(time.Now())), "sk": s("REFRESH"), "mid": s(m.MID)}, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		touch(m.SecretKeyID), touch(m.PublicKeyID),
	}})
	if err != nil {
		b.Fatal(err)
	}
}
