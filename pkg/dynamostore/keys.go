package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
)

var _ apikey.Store = (*Store)(nil)

// CreateKey writes the key record, its unique digest lookup and its sealed
// value in one transaction: all three or none.
func (st *Store) CreateKey(ctx context.Context, nk apikey.NewKey) error {
	k := nk.Key
	record := map[string]types.AttributeValue{
		AttrPK:       s(keyPK(k.ID)),
		AttrSK:       s(skMeta),
		AttrGSI1PK:   s(midPK(k.MID)),
		AttrGSI1SK:   s(k.ID),
		"id":         s(k.ID),
		"mid":        s(k.MID),
		"name":       s(k.Name),
		"type":       s(string(k.Type)),
		"scopes":     list(k.Scopes),
		"revoked":    &types.AttributeValueMemberBOOL{Value: false},
		"created_at": ts(k.CreatedAt),
		"last_four":  s(k.LastFour),
		"digest":     b(nk.Digest[:]),
	}
	putTime(record, "expires_at", k.ExpiresAt)

	lookup := digestItem(nk.Digest[:], k)

	value := map[string]types.AttributeValue{
		AttrPK:  s(keyPK(k.ID)),
		AttrSK:  s(skValue),
		"edk":   b(nk.Sealed.EncryptedKey),
		"nonce": b(nk.Sealed.Nonce),
		"ct":    b(nk.Sealed.Ciphertext),
	}
	if nk.SealedExpiresAt != nil {
		value[AttrTTL] = n(nk.SealedExpiresAt.Unix())
		putTime(value, "expires_at", nk.SealedExpiresAt)
	}

	notExists := aws.String("attribute_not_exists(" + AttrPK + ")")
	_, err := st.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &st.Table, Item: record, ConditionExpression: notExists}},
			{Put: &types.Put{TableName: &st.Table, Item: lookup, ConditionExpression: notExists}},
			{Put: &types.Put{TableName: &st.Table, Item: value, ConditionExpression: notExists}},
		},
	})
	if failed := conditionFailures(err); failed != nil {
		if failed[1] {
			return apikey.ErrDuplicateDigest
		}
		return fmt.Errorf("create key: condition failed: %w", err)
	}
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

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
