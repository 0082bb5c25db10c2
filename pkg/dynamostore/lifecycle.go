package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awserr"
)

// Attributes a roll or a delete writes on the key record. The token path
// reads them to refuse tokens of revoked keys and tokens of a value whose
// generation the key has left behind.
const (
	attrRevoked            = "revoked"
	attrRevokedAt          = "revoked_at"
	attrRolledAt           = "rolled_at"
	attrPreviousValidUntil = "previous_valid_until"
	// attrGeneration numbers a key's values (on the record: the current
	// one's; on a digest item: that value's). A record written before
	// generations were kept has none and counts as apikey.FirstGeneration.
	attrGeneration = "generation"
	// attrPreviousDigest names the lookup item of a rolled value that may
	// still be in its grace period, so that the next roll or a delete can
	// remove it.
	attrPreviousDigest = "previous_digest"
	// attrValidUntil ends a rolled value's grace period on its lookup item.
	attrValidUntil = "valid_until"
)

// GetKey reads the key record and its sealed value in one strongly
// consistent Query on the key's partition (both items share it).
func (st *Store) GetKey(ctx context.Context, id string) (apikey.StoredKey, error) {
	out, err := awserr.Call(ctx, st.Client.Query, &dynamodb.QueryInput{
		TableName:                 &st.Table,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(keyPK(id))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return apikey.StoredKey{}, fmt.Errorf("get key: %w", err)
	}
	var sk apikey.StoredKey
	found := false
	for _, item := range out.Items {
		switch getS(item, AttrSK) {
		case skMeta:
			found = true
			sk.Key = keyOf(item)
			copy(sk.Digest[:], getB(item, "digest"))
			if prev := getB(item, attrPreviousDigest); len(prev) == len(sk.Digest) {
				var d apikey.Digest
				copy(d[:], prev)
				sk.PreviousDigest = &d
			}
		case skValue:
			sk.Sealed = &apikey.Sealed{EncryptedKey: getB(item, "edk"), Nonce: getB(item, "nonce"), Ciphertext: getB(item, "ct")}
		}
	}
	if !found {
		return apikey.StoredKey{}, apikey.ErrNotFound
	}
	return sk, nil
}

// listAttributes are the record attributes a listing reads (not the digest).
var listAttributes = map[string]string{
	"#id": "id", "#mid": "mid", "#name": "name", "#type": "type", "#scopes": "scopes",
	"#revoked": attrRevoked, "#created": "created_at", "#expires": "expires_at",
	"#used": "last_used", "#revokedAt": attrRevokedAt, "#four": "last_four",
	"#rolled": attrRolledAt, "#prevUntil": attrPreviousValidUntil, "#gpk": AttrGSI1PK, "#gen": attrGeneration,
}

const listProjection = "#id, #mid, #name, #type, #scopes, #revoked, #created, #expires, #used, #revokedAt, #four, #rolled, #prevUntil, #gen"

// ListKeys queries the merchant index newest first (ULIDs sort by time).
// Revoked keys are filtered out by DynamoDB unless asked for; since a filter
// applies after Limit, it reads on until it holds one key more than the
// page (which tells whether more follow) or the merchant has no more keys.
// The next page starts after the last key returned, not where DynamoDB
// stopped reading, so keys read past the page are not skipped.
func (st *Store) ListKeys(ctx context.Context, q apikey.KeyQuery) ([]apikey.Key, bool, error) {
	want := q.Limit + 1
	in := &dynamodb.QueryInput{
		TableName:                &st.Table,
		IndexName:                aws.String(IndexGSI1),
		KeyConditionExpression:   aws.String("#gpk = :m"),
		ProjectionExpression:     aws.String(listProjection),
		ExpressionAttributeNames: listAttributes,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":m": s(midPK(q.MID)),
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(want)),
	}
	if !q.IncludeRevoked {
		in.FilterExpression = aws.String("#revoked = :false")
		in.ExpressionAttributeValues[":false"] = &types.AttributeValueMemberBOOL{Value: false}
	}
	if q.After != "" {
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			AttrPK: s(keyPK(q.After)), AttrSK: s(skMeta), AttrGSI1PK: s(midPK(q.MID)), AttrGSI1SK: s(q.After),
		}
	}
	keys := make([]apikey.Key, 0, want)
	for {
		out, err := awserr.Call(ctx, st.Client.Query, in)
		if err != nil {
			return nil, false, fmt.Errorf("list keys: %w", err)
		}
		for _, item := range out.Items {
			keys = append(keys, keyOf(item))
		}
		if len(keys) >= want || out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(keys) > q.Limit {
		return keys[:q.Limit], true, nil
	}
	return keys, false, nil
}

// RevokeKey marks the record revoked and deletes the lookups of its current
// value and of a value still in its grace period, in one transaction
// conditioned on the record still holding the digest read.
func (st *Store) RevokeKey(ctx context.Context, r apikey.Revocation) error {
	var t txn
	t.add(itemRecord, types.TransactWriteItem{Update: &types.Update{
		TableName:                &st.Table,
		Key:                      itemKey(keyPK(r.ID), skMeta),
		UpdateExpression:         aws.String("SET #revoked = :true, #revokedAt = :at"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #revoked = :false AND #digest = :digest"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#revoked": attrRevoked, "#revokedAt": attrRevokedAt, "#digest": "digest"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true":   &types.AttributeValueMemberBOOL{Value: true},
			":false":  &types.AttributeValueMemberBOOL{Value: false},
			":at":     ts(r.At),
			":digest": b(r.Digest[:]),
		},
	}})
	t.add(itemDigest, st.deleteItem(digestPK(r.Digest[:]), skDigest))
	if r.PreviousDigest != nil {
		t.add(itemPrevDigest, st.deleteItem(digestPK(r.PreviousDigest[:]), skDigest))
	}
	why, err := st.write(ctx, &t)
	if why.failed(itemRecord) {
		return apikey.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	return nil
}

// RollKey replaces the value in one transaction: the record (conditioned on
// its digest), the new lookup (unique), the old lookup (deleted, or given
// valid_until and a TTL), an earlier grace period's lookup (deleted) and the
// sealed value (replaced).
func (st *Store) RollKey(ctx context.Context, r apikey.Rollover) error {
	k := r.Key
	names := map[string]string{
		"#pk": AttrPK, "#revoked": attrRevoked, "#digest": "digest", "#four": "last_four",
		"#rolled": attrRolledAt, "#prevUntil": attrPreviousValidUntil, "#prev": attrPreviousDigest,
	}
	values := map[string]types.AttributeValue{
		":false": &types.AttributeValueMemberBOOL{Value: false},
		":old":   b(r.OldDigest[:]),
		":new":   b(r.NewDigest[:]),
		":four":  s(k.LastFour),
		":at":    ts(*k.RolledAt),
		":until": ts(*k.PreviousValidUntil),
	}
	names["#gen"] = attrGeneration
	values[":gen"] = n(k.Generation)
	update := "SET #digest = :new, #four = :four, #rolled = :at, #prevUntil = :until, #gen = :gen"
	if r.KeepOld {
		update += ", #prev = :old"
	} else {
		update += " REMOVE #prev"
	}
	var t txn
	t.add(itemRecord, types.TransactWriteItem{Update: &types.Update{
		TableName:                 &st.Table,
		Key:                       itemKey(keyPK(k.ID), skMeta),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #revoked = :false AND #digest = :old"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}})
	t.add(itemDigest, types.TransactWriteItem{Put: &types.Put{TableName: &st.Table, Item: digestItem(r.NewDigest[:], k), ConditionExpression: aws.String("attribute_not_exists(" + AttrPK + ")")}})
	if r.KeepOld {
		t.add(itemOldDigest, types.TransactWriteItem{Update: &types.Update{
			TableName:                &st.Table,
			Key:                      itemKey(digestPK(r.OldDigest[:]), skDigest),
			UpdateExpression:         aws.String("SET #until = :until, #ttl = :ttl"),
			ConditionExpression:      aws.String("attribute_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#until": attrValidUntil, "#ttl": AttrTTL},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":until": ts(*k.PreviousValidUntil),
				":ttl":   n(k.PreviousValidUntil.Unix()),
			},
		}})
	} else {
		t.add(itemOldDigest, st.deleteItem(digestPK(r.OldDigest[:]), skDigest))
	}
	if r.Ended != nil {
		t.add(itemEndedDigest, st.deleteItem(digestPK(r.Ended[:]), skDigest))
	}
	t.add(itemValue, types.TransactWriteItem{Put: &types.Put{TableName: &st.Table, Item: sealedItem(k.ID, r.Sealed, r.SealedExpiresAt)}})

	why, err := st.write(ctx, &t)
	switch {
	case why.failed(itemDigest):
		return apikey.ErrDuplicateDigest
	case why.failed(itemRecord, itemOldDigest):
		return apikey.ErrConflict
	case why != nil:
		return fmt.Errorf("roll key: condition failed: %w", err)
	case err != nil:
		return fmt.Errorf("roll key: %w", err)
	}
	return nil
}

func (st *Store) deleteItem(pk, sk string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: &st.Table, Key: itemKey(pk, sk)}}
}

// keyOf reads a key record's metadata.
func keyOf(item map[string]types.AttributeValue) apikey.Key {
	k := apikey.Key{
		ID:                 getS(item, "id"),
		MID:                getS(item, "mid"),
		Name:               getS(item, "name"),
		Type:               apikey.Type(getS(item, "type")),
		Scopes:             getList(item, "scopes"),
		Revoked:            getBool(item, attrRevoked),
		ExpiresAt:          getTime(item, "expires_at"),
		LastUsed:           getTime(item, "last_used"),
		RevokedAt:          getTime(item, attrRevokedAt),
		LastFour:           getS(item, "last_four"),
		RolledAt:           getTime(item, attrRolledAt),
		PreviousValidUntil: getTime(item, attrPreviousValidUntil),
		Generation:         getGeneration(item),
	}
	if t := getTime(item, "created_at"); t != nil {
		k.CreatedAt = *t
	}
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	return k
}

// sealedItem is the KMS-sealed value of a key; expires, when set, is also
// its TTL.
func sealedItem(id string, sealed apikey.Sealed, expires *time.Time) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		AttrPK:  s(keyPK(id)),
		AttrSK:  s(skValue),
		"edk":   b(sealed.EncryptedKey),
		"nonce": b(sealed.Nonce),
		"ct":    b(sealed.Ciphertext),
	}
	if expires != nil {
		item[AttrTTL] = n(expires.Unix())
		putTime(item, "expires_at", expires)
	}
	return item
}

// getGeneration reads a generation attribute; a record or lookup written
// before generations were kept is apikey.FirstGeneration.
func getGeneration(item map[string]types.AttributeValue) int64 {
	if g := getN(item, attrGeneration); g > 0 {
		return g
	}
	return apikey.FirstGeneration
}
