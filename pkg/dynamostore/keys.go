package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
)

var _ apikey.Store = (*Store)(nil)

// CreateKey writes the key record, its unique digest lookup and its sealed
// value in one transaction: all three or none. With an idempotency claim,
// the same transaction marks the claim done, provided it is still held.
func (st *Store) CreateKey(ctx context.Context, nk apikey.NewKey) error {
	var t txn
	st.addKey(&t, "", nk)
	if nk.Claim != nil {
		t.add(itemIdemClaim, st.completeClaim(*nk.Claim, nk.Key.ID))
	}
	why, err := st.write(ctx, &t)
	switch {
	case why.failed(itemIdemClaim):
		return apikey.ErrIdempotencyInFlight // the claim was taken over
	case why.failed(itemDigest):
		return apikey.ErrDuplicateDigest
	case why != nil:
		return fmt.Errorf("create key: condition failed: %w", err)
	case err != nil:
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

// addKey adds the conditional puts that create a key to t: its record, its
// digest lookup (unique) and its sealed value, named itemRecord, itemDigest
// and itemValue after prefix.
func (st *Store) addKey(t *txn, prefix string, nk apikey.NewKey) {
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
	t.add(prefix+itemRecord, types.TransactWriteItem{Put: &types.Put{TableName: &st.Table, Item: record, ConditionExpression: notExists}})
	t.add(prefix+itemDigest, types.TransactWriteItem{Put: &types.Put{TableName: &st.Table, Item: lookup, ConditionExpression: notExists}})
	t.add(prefix+itemValue, types.TransactWriteItem{Put: &types.Put{TableName: &st.Table, Item: value, ConditionExpression: notExists}})
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
		// The generation of this value: what tokens minted from it carry.
		attrGeneration: n(k.Generation),
	}
	putTime(item, "expires_at", k.ExpiresAt)
	return item
}
