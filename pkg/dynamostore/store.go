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
//	RATE#<key id>#<minute> / RATE  the tokens a secret key obtained in one minute
//	                         (2006-01-02T15:04Z), counted by the token transactions,
//	                         expiring at the minute's end
//	IDEM#<mid>#<key id>#<hex> / IDEM  a calling key's idempotency claim on a create
//	                         (hex: SHA-256 of the idempotency key), 24 h TTL
//
// Each kind of item is a struct in items.go, marshalled by the SDK's
// attributevalue package; conditions, updates, projections and key
// conditions are built by its expression package (expr.go); transactions
// name their items, and a cancellation's reasons are read by name (txn.go).
package dynamostore

import (
	"context"
	"encoding/hex"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
	// AuditTable is the append-only table of audit events.
	AuditTable string
}

func keyPK(id string) string   { return "KEY#" + id }
func midPK(mid string) string  { return "MID#" + mid }
func digestPK(d []byte) string { return "DIGEST#" + hexOf(d) }
func hexOf(d []byte) string    { return hex.EncodeToString(d) }
