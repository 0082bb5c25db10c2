package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
)

// The lifecycle benchmarks time the routes that manage keys (bench_test.go
// says how). Each of them is one chain of dependent calls: its serial
// floor is its critical path.

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

func BenchmarkLifecycleGet(b *testing.B) {
	m, tok := benchMerchant(b)
	eachRegime(b, func(bb *bench) {
		// The floor: one strongly consistent Query on the key's partition.
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(apitest.Env().Config.TableName),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "KEY#" + m.SecretKeyID}},
			ConsistentRead:            aws.Bool(true),
		}
		floor := func() {
			if _, err := bb.clients.DynamoDB.Query(bb.ctx, in); err != nil {
				bb.Fatal(err)
			}
		}
		bb.measure(bb.serve(bb.stack(), "GET", "/v1/api-keys/"+m.SecretKeyID, 200, fixed(apitest.Bearer(tok), "")), protectedFloor(b, tok, floor), nil)
	})
}

func BenchmarkLifecycleList50(b *testing.B) {
	m, tok := benchMerchant(b)
	eachRegime(b, func(bb *bench) {
		// The floor: the one Query of 51 items on the merchant index that a
		// listing sends (built by the store, same projection and filter).
		floor := func() {
			if keys, more, err := bb.store.ListKeys(bb.ctx, apikey.KeyQuery{MID: m.MID, Limit: 50}); err != nil || len(keys) != 50 || !more {
				bb.Fatal(err)
			}
		}
		bb.measure(bb.serve(bb.stack(), "GET", "/v1/api-keys?mid="+m.MID, 200, fixed(apitest.Bearer(tok), "")), protectedFloor(b, tok, floor), nil)
	})
}

func BenchmarkLifecycleRoll(b *testing.B) {
	m, tok := benchMerchant(b)
	eachRegime(b, func(bb *bench) {
		// A key of its own to roll: rolling the public key the token was
		// minted with would end the token.
		id := apitest.Str(apitest.MustCreateKey(b, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"rolled","type":"public"}`), "id")
		// The floor at the adapters: the read, the sealing of a new value and
		// the transaction, without HTTP, bearer check or service logic.
		ctx := context.Background()
		floor := func() {
			sk, err := bb.store.GetKey(ctx, id)
			if err != nil {
				bb.Fatal(err)
			}
			v, _ := apikey.NewValue(apikey.Public, apikey.Sandbox)
			sealed, err := bb.sealer.Seal(ctx, []byte(v), apikey.EncryptionContext(m.MID, id))
			if err != nil {
				bb.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Second)
			k := sk.Key
			k.RolledAt, k.PreviousValidUntil, k.LastFour = &now, &now, apikey.LastFour(v)
			if err := bb.store.RollKey(ctx, apikey.Rollover{Key: k, OldDigest: sk.Digest, NewDigest: apikey.DigestOf(v), Sealed: sealed}); err != nil {
				bb.Fatal(err)
			}
		}
		bb.measure(bb.serve(bb.stack(), "POST", "/v1/api-keys/"+id+"/roll", 200, fixed(apitest.Bearer(tok), "")), protectedFloor(b, tok, floor), nil)
	})
}
