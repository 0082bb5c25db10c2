package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awserr"
)

var _ apikey.Store = (*Store)(nil)

// CreateKey writes the key record, its unique digest lookup and its sealed
// value in one transaction: all three or none. With an idempotency claim,
// the same transaction marks the claim done, provided it is still held.
func (st *Store) CreateKey(ctx context.Context, nk apikey.NewKey) error {
	items := st.keyItems(nk)
	if nk.Claim != nil {
		items = append(items, st.completeClaim(*nk.Claim, nk.Key.ID))
	}
	_, err := awserr.Call(ctx, st.Client.TransactWriteItems, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed := conditionFailures(err); failed != nil {
		switch {
		case failed[3]:
			return apikey.ErrIdempotencyInFlight // the claim was taken over
		case failed[keyItemDigest]:
			return apikey.ErrDuplicateDigest
		}
		return fmt.Errorf("create key: condition failed: %w", err)
	}
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

// keyItems are the conditional puts that create a key: its record, its
// digest lookup (keyItemDigest; unique) and its sealed value, in that order.
func (st *Store) keyItems(nk apikey.NewKey) []types.TransactWriteItem {
	k := nk.Key
	record := map[string]types.AttributeValue{
		AttrPK:         s(keyPK(k.ID)),
		AttrSK:         s(skMeta),
		AttrGSI1PK:     s(midPK(k.MID)),
		AttrGSI1SK:     s(k.ID),
		"id":           s(k.ID),
		"mid":          s(k.MID),
		"name":         s(k.Name),
		"type":         s(string(k.Type)),
		"scopes":       list(k.Scopes),
		attrRevoked:    &types.AttributeValueMemberBOOL{Value: false},
		"created_at":   ts(k.CreatedAt),
		"last_four":    s(k.LastFour),
		"digest":       b(nk.Digest[:]),
		attrGeneration: n(k.Generation),
	}
	putTime(record, "expires_at", k.ExpiresAt)

	lookup := digestItem(nk.Digest[:], k)

	value := sealedItem(k.ID, nk.Sealed, nk.SealedExpiresAt)

	notExists := aws.String("attribute_not_exists(" + AttrPK + ")")
	return []types.TransactWriteItem{
		{Put: &types.Put{TableName: &st.Table, Item: record, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: &st.Table, Item: lookup, ConditionExpression: notExists}},
		{Put: &types.Put{TableName: &st.Table, Item: value, ConditionExpression: notExists}},
	}
}

// keyItemDigest is the index of the digest lookup among a key's keyItems.
const keyItemDigest = 1

// digestItem is the lookup item for a value: everything authentication needs,
// so the token call reads nothing else.
func digestItem(digest []byte, k apikey.Key) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		AttrPK:   s(digestPK(digest)),
		AttrSK:   s(skDigest),
		"digest": b(digest),
		"key_id": s(k.ID),
		"mid":    s(k.MID),
		"type":   s(string(k.Type)),
		"scopes": list(k.Scopes),
		// The generation of this value: what tokens minted from it carry.
		attrGeneration: n(k.Generation),
	}
	putTime(item, "expires_at", k.ExpiresAt)
	return item
}

// conditionFailures returns, for a cancelled transaction, which items failed
// their condition; nil when err is not a cancelled transaction.
func conditionFailures(err error) map[int]bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	out := map[int]bool{}
	for i, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			out[i] = true
		}
	}
	return out
}
