// Package dynamostore keeps keys, digest lookups, sealed values and refresh
// tokens in one DynamoDB table (single-table design).
//
// Items (pk / sk):
//
//	KEY#<id>       / META    the key record; GSI1 MID#<mid> / <id> lists a merchant's keys
//	KEY#<id>       / VALUE   the KMS-sealed value (a secret's expires after 24 h)
//	MID#<mid>      / ONBOARD the merchant's onboarding claim: the secret key id of its
//	                         last onboarding (one onboarding commits per claim read)
//	DIGEST#<hex>   / DIGEST  lookup by SHA-256 of a value; unique; what authenticates
//	REFRESH#<hex>  / REFRESH a refresh token's digest, with a TTL; a rotated or
//	                         revoked one stays (a tombstone) until its TTL
//	FAMILY#<id>    / REVOKED a revoked refresh family, with a TTL
//	IDEM#<mid>#<key id>#<hex> / IDEM  a calling key's idempotency claim on a create
//	                         (hex: SHA-256 of the idempotency key), 24 h TTL
package dynamostore

import (
	"context"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Client is the subset of the DynamoDB API the store calls. The store makes
// every call through awserr.Call, so a throttle, timeout or outage reaches
// the domain as apikey.ErrUnavailable.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Attribute and index names shared with the table definition.
const (
	AttrPK     = "pk"
	AttrSK     = "sk"
	AttrGSI1PK = "gsi1pk"
	AttrGSI1SK = "gsi1sk"
	AttrTTL    = "ttl"
	IndexGSI1  = "gsi1"
)

const (
	skMeta    = "META"
	skValue   = "VALUE"
	skDigest  = "DIGEST"
	skRefresh = "REFRESH"
	skRevoked = "REVOKED"
)

// Store is the DynamoDB adapter of the apikey and auth ports.
type Store struct {
	Client Client
	Table  string
}

func keyPK(id string) string   { return "KEY#" + id }
func midPK(mid string) string  { return "MID#" + mid }
func digestPK(d []byte) string { return "DIGEST#" + hexOf(d) }
func hexOf(d []byte) string    { return hex.EncodeToString(d) }
func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: s(pk), AttrSK: s(sk)}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func b(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }

func list(v []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(v))
	for i, e := range v {
		l[i] = s(e)
	}
	return &types.AttributeValueMemberL{Value: l}
}

func ts(t time.Time) types.AttributeValue { return s(t.UTC().Format(time.RFC3339)) }

// putTime sets a time attribute when t is set.
func putTime(item map[string]types.AttributeValue, name string, t *time.Time) {
	if t != nil {
		item[name] = ts(*t)
	}
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getB(item map[string]types.AttributeValue, name string) []byte {
	if v, ok := item[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

func getBool(item map[string]types.AttributeValue, name string) bool {
	v, ok := item[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func getList(item map[string]types.AttributeValue, name string) []string {
	v, ok := item[name].(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(v.Value))
	for _, e := range v.Value {
		if sv, ok := e.(*types.AttributeValueMemberS); ok {
			out = append(out, sv.Value)
		}
	}
	return out
}

// getN reads a number attribute; absent or unreadable is 0.
func getN(item map[string]types.AttributeValue, name string) int64 {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	i, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0
	}
	return i
}

// getTime reads an RFC 3339 attribute; absent or unreadable is nil.
func getTime(item map[string]types.AttributeValue, name string) *time.Time {
	raw := getS(item, name)
	if raw == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return nil
	}
	return &t
}
