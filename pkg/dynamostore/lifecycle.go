package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awserr"
)

// Attributes of a key record that writes after its creation change, and
// the digest lookup's grace period. The token path reads them to refuse
// tokens of revoked keys and tokens of a value whose generation the key has
// left behind.
const (
	attrDigest             = "digest"
	attrLastFour           = "last_four"
	attrLastUsed           = "last_used"
	attrRevoked            = "revoked"
	attrRevokedAt          = "revoked_at"
	attrRevokedReason      = "revoked_reason"
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
	e := build(expression.NewBuilder().WithKeyCondition(expression.Key(AttrPK).Equal(value(keyPK(id)))))
	out, err := awserr.Call(ctx, st.Client.Query, &dynamodb.QueryInput{
		TableName:                 &st.Table,
		KeyConditionExpression:    e.KeyCondition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return apikey.StoredKey{}, fmt.Errorf("get key: %w", err)
	}
	var sk apikey.StoredKey
	found := false
	for _, item := range out.Items {
		var k key
		if err := attributevalue.UnmarshalMap(item, &k); err != nil {
			return apikey.StoredKey{}, fmt.Errorf("get key: %w", err)
		}
		switch k.SK {
		case skMeta:
			var r keyRecord
			if err := attributevalue.UnmarshalMap(item, &r); err != nil {
				return apikey.StoredKey{}, fmt.Errorf("get key: %w", err)
			}
			found = true
			sk.Key = r.apiKey()
			copy(sk.Digest[:], r.Digest)
			if len(r.PreviousDigest) == len(sk.Digest) {
				var d apikey.Digest
				copy(d[:], r.PreviousDigest)
				sk.PreviousDigest = &d
			}
		case skValue:
			var v sealedValue
			if err := attributevalue.UnmarshalMap(item, &v); err != nil {
				return apikey.StoredKey{}, fmt.Errorf("get key: %w", err)
			}
			sk.Sealed = v.sealed()
		}
	}
	if !found {
		return apikey.StoredKey{}, apikey.ErrNotFound
	}
	return sk, nil
}

// listAttributes are the record attributes a listing reads (not the digest).
var listAttributes = []string{
	"id", "mid", "name", "type", "scopes", attrRevoked, "created_at", "expires_at", attrLastUsed,
	attrRevokedAt, attrRevokedReason, attrLastFour, attrRolledAt, attrPreviousValidUntil, attrGeneration,
}

// ListKeys queries the merchant index newest first (ULIDs sort by time).
// Revoked keys are filtered out by DynamoDB unless asked for; since a filter
// applies after Limit, it reads on until it holds one key more than the
// page (which tells whether more follow) or the merchant has no more keys.
// The next page starts after the last key returned, not where DynamoDB
// stopped reading, so keys read past the page are not skipped.
func (st *Store) ListKeys(ctx context.Context, q apikey.KeyQuery) ([]apikey.Key, bool, error) {
	want := q.Limit + 1
	b := expression.NewBuilder().
		WithKeyCondition(expression.Key(AttrGSI1PK).Equal(value(midPK(q.MID)))).
		WithProjection(project(listAttributes...))
	if !q.IncludeRevoked {
		b = b.WithFilter(notRevoked())
	}
	e := build(b)
	in := &dynamodb.QueryInput{
		TableName:                 &st.Table,
		IndexName:                 aws.String(IndexGSI1),
		KeyConditionExpression:    e.KeyCondition(),
		ProjectionExpression:      e.Projection(),
		FilterExpression:          e.Filter(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(want)),
	}
	if q.After != "" {
		in.ExclusiveStartKey = marshal(indexKey{key: key{keyPK(q.After), skMeta}, GSI1PK: midPK(q.MID), GSI1SK: q.After})
	}
	keys := make([]apikey.Key, 0, want)
	for {
		out, err := awserr.Call(ctx, st.Client.Query, in)
		if err != nil {
			return nil, false, fmt.Errorf("list keys: %w", err)
		}
		var records []keyRecord
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &records); err != nil {
			return nil, false, fmt.Errorf("list keys: %w", err)
		}
		for _, r := range records {
			keys = append(keys, r.apiKey())
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
	revoke := expression.Set(name(attrRevoked), value(true)).Set(name(attrRevokedAt), value(stamp(r.At)))
	if r.Reason != "" {
		revoke = revoke.Set(name(attrRevokedReason), value(r.Reason))
	}
	t.add(itemRecord, st.update(key{keyPK(r.ID), skMeta}, revoke,
		expression.And(exists(), notRevoked(), name(attrDigest).Equal(value(r.Digest[:])))))
	t.add(itemDigest, st.remove(key{digestPK(r.Digest[:]), skDigest}))
	if r.PreviousDigest != nil {
		t.add(itemPrevDigest, st.remove(key{digestPK(r.PreviousDigest[:]), skDigest}))
	}
	st.addEvent(&t, r.Event)
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
	if err := checkSealed(r.Sealed); err != nil {
		return err
	}
	k := r.Key
	record := expression.Set(name(attrDigest), value(r.NewDigest[:])).
		Set(name(attrLastFour), value(k.LastFour)).
		Set(name(attrRolledAt), value(stamp(*k.RolledAt))).
		Set(name(attrPreviousValidUntil), value(stamp(*k.PreviousValidUntil))).
		Set(name(attrGeneration), value(k.Generation))
	if r.KeepOld {
		record = record.Set(name(attrPreviousDigest), value(r.OldDigest[:]))
	} else {
		record = record.Remove(name(attrPreviousDigest))
	}
	var t txn
	t.add(itemRecord, st.update(key{keyPK(k.ID), skMeta}, record,
		expression.And(exists(), notRevoked(), name(attrDigest).Equal(value(r.OldDigest[:])))))
	t.add(itemDigest, st.put(newDigestLookup(r.NewDigest, k), absent()))
	old := key{digestPK(r.OldDigest[:]), skDigest}
	if r.KeepOld {
		t.add(itemOldDigest, st.update(old,
			expression.Set(name(attrValidUntil), value(stamp(*k.PreviousValidUntil))).Set(name(AttrTTL), value(k.PreviousValidUntil.Unix())),
			exists()))
	} else {
		t.add(itemOldDigest, st.remove(old))
	}
	if r.Ended != nil {
		t.add(itemEndedDigest, st.remove(key{digestPK(r.Ended[:]), skDigest}))
	}
	t.add(itemValue, st.put(newSealedValue(k.ID, r.Sealed, r.SealedExpiresAt), noCondition))

	st.addEvent(&t, r.Event)
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
