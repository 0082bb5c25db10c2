package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/dynamostore"
)

// The lifecycle benchmarks pair each route, served by the whole stack
// (bearer verification, routing, JSON, service, adapters), with the bare
// calls of its floor (protectedFloor: the ES256 verification every
// protected route does, then the SDK calls). Both run alternately in one loop, so that the
// emulators' warm-up and the load of a shared machine weigh on both alike,
// and the medians are reported with their ratio, the overhead.

// benchMerchant is a merchant with 60 keys and a token.
func benchMerchant(b *testing.B) (apitest.Merchant, string) {
	b.Helper()
	m := apitest.NewMerchant(b)
	tok := apitest.TokenFor(b, m)
	for i := range 58 {
		r := apitest.Serve(apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), fmt.Sprintf(`{"mid":"%s","name":"k%d","type":"public"}`, m.MID, i))
		if r.Code != 201 {
			b.Fatalf("create: %d %s", r.Code, r.Body)
		}
	}
	return m, tok
}

// route returns a call of the route through the whole stack.
func route(b *testing.B, method, path, tok, body string, status int) func() {
	return func() {
		if r := apitest.Serve(apitest.App(), method, path, apitest.Bearer(tok), body); r.Code != status {
			b.Fatalf("%s %s: %d %s", method, path, r.Code, r.Body)
		}
	}
}

// pair runs handler and floor alternately (each first every other time)
// and reports their medians and the ratio of the medians.
func pair(b *testing.B, handler, floor func()) {
	var hs, fs []time.Duration
	timed := func(f func(), into *[]time.Duration) {
		start := time.Now()
		f()
		*into = append(*into, time.Since(start))
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(handler, &hs)
			timed(floor, &fs)
		} else {
			timed(floor, &fs)
			timed(handler, &hs)
		}
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	h, f := median(hs), median(fs)
	b.ReportMetric(float64(h.Microseconds()), "handler-µs")
	b.ReportMetric(float64(f.Microseconds()), "floor-µs")
	b.ReportMetric(float64(h)/float64(f), "handler/floor")
}

func BenchmarkLifecycleGet(b *testing.B) {
	m, tok := benchMerchant(b)
	// The floor: one strongly consistent Query on the key's partition.
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(apitest.Env().Config.TableName),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "KEY#" + m.SecretKeyID}},
		ConsistentRead:            aws.Bool(true),
	}
	pair(b, route(b, "GET", "/v1/api-keys/"+m.SecretKeyID, tok, "", 200), protectedFloor(b, tok, func() {
		if _, err := apitest.Env().Clients.DynamoDB.Query(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}))
}

func BenchmarkLifecycleList50(b *testing.B) {
	m, tok := benchMerchant(b)
	// The floor: the one Query of 51 items on the merchant index that a
	// listing sends (built by the store, same projection and filter).
	st := &dynamostore.Store{Client: apitest.Env().Clients.DynamoDB, Table: apitest.Env().Config.TableName}
	pair(b, route(b, "GET", "/v1/api-keys?mid="+m.MID, tok, "", 200), protectedFloor(b, tok, func() {
		if keys, more, err := st.ListKeys(context.Background(), apikey.KeyQuery{MID: m.MID, Limit: 50}); err != nil || len(keys) != 50 || !more {
			b.Fatal(err)
		}
	}))
}

func BenchmarkLifecycleRoll(b *testing.B) {
	m, tok := benchMerchant(b)
	// The floor at the adapters: the read, the sealing of a new value and
	// the transaction, without HTTP, bearer check or service logic.
	st := &dynamostore.Store{Client: apitest.Env().Clients.DynamoDB, Table: apitest.Env().Config.TableName}
	seal := &awskms.Envelope{Client: apitest.Env().Clients.KMS, KeyID: apitest.Env().Config.DataKeyID}
	ctx := context.Background()
	floor := func() {
		sk, err := st.GetKey(ctx, m.PublicKeyID)
		if err != nil {
			b.Fatal(err)
		}
		v, _ := apikey.NewValue(apikey.Public, apikey.Sandbox)
		sealed, err := seal.Seal(ctx, []byte(v), apikey.EncryptionContext(m.MID, m.PublicKeyID))
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		k := sk.Key
		k.RolledAt, k.PreviousValidUntil, k.LastFour = &now, &now, apikey.LastFour(v)
		if err := st.RollKey(ctx, apikey.Rollover{Key: k, OldDigest: sk.Digest, NewDigest: apikey.DigestOf(v), Sealed: sealed}); err != nil {
			b.Fatal(err)
		}
	}
	pair(b, route(b, "POST", "/v1/api-keys/"+m.PublicKeyID+"/roll", tok, "", 200), protectedFloor(b, tok, floor))
}
