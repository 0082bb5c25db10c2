package dynamostore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awserr"
)

// An idempotency record IDEM#<mid>#<calling key id>#<sha256(key)> / IDEM
// belongs to the secret key that made the request. It is written pending
// by a conditional PutItem (the claim), and turned done, with the id of the
// created key, by the key's creation transaction. Its ttl is the end of the
// replay window; until DynamoDB sweeps it, an expired record is treated as
// absent by the claim's condition.

const (
	skIdem       = "IDEM"
	claimPending = "pending"
	claimDone    = "done"
)

// idemNames are the attribute names of idempotency records.
var idemNames = map[string]string{
	"#pk": AttrPK, "#ttl": AttrTTL, "#state": "state", "#claim": "claim",
	"#locked": "locked_until", "#fp": "fingerprint", "#key": "key_id",
}

func idemPK(c apikey.IdempotencyClaim) string {
	h := sha256.Sum256([]byte(c.Key))
	return "IDEM#" + c.MID + "#" + c.CallerKeyID + "#" + hexOf(h[:])
}

// names returns the subset of idemNames an expression uses.
func names(keys ...string) map[string]string {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = idemNames[k]
	}
	return out
}

// ClaimIdempotencyKey writes a pending claim unless an unexpired record
// exists; then it returns that record (from the failed write when the
// service sends it back, else from a strongly consistent read).
func (st *Store) ClaimIdempotencyKey(ctx context.Context, c apikey.IdempotencyClaim) (*apikey.IdempotencyRecord, error) {
	item := map[string]types.AttributeValue{
		AttrPK:          s(idemPK(c)),
		AttrSK:          s(skIdem),
		"mid":           s(c.MID),
		"caller_key_id": s(c.CallerKeyID),
		"fingerprint":   b(c.Fingerprint[:]),
		"state":         s(claimPending),
		"claim":         s(c.Token),
		"locked_until":  millis(c.LockedUntil),
		"created_at":    ts(c.At),
		AttrTTL:         n(c.ExpiresAt.Unix()),
	}
	for range 2 {
		_, err := awserr.Call(ctx, st.Client.PutItem, &dynamodb.PutItemInput{
			TableName:                           &st.Table,
			Item:                                item,
			ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #ttl <= :now"),
			ExpressionAttributeNames:            names("#pk", "#ttl"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":now": n(c.At.Unix())},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return nil, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return nil, fmt.Errorf("claim idempotency key: %w", err)
		}
		old := ccf.Item
		if old == nil {
			out, err := awserr.Call(ctx, st.Client.GetItem, &dynamodb.GetItemInput{
				TableName:      &st.Table,
				Key:            itemKey(idemPK(c), skIdem),
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				return nil, fmt.Errorf("read idempotency key: %w", err)
			}
			if old = out.Item; old == nil {
				continue // swept between the two calls: claim again
			}
		}
		return idemRecord(old), nil
	}
	return nil, errors.New("claim idempotency key: record changed twice under the claim")
}

// TakeOverIdempotencyKey hands a pending claim whose holder died to c.
func (st *Store) TakeOverIdempotencyKey(ctx context.Context, c apikey.IdempotencyClaim, stale string) error {
	_, err := awserr.Call(ctx, st.Client.UpdateItem, &dynamodb.UpdateItemInput{
		TableName:                &st.Table,
		Key:                      itemKey(idemPK(c), skIdem),
		UpdateExpression:         aws.String("SET #claim = :claim, #locked = :locked"),
		ConditionExpression:      aws.String("#claim = :stale AND #state = :pending"),
		ExpressionAttributeNames: names("#claim", "#locked", "#state"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":claim":   s(c.Token),
			":locked":  millis(c.LockedUntil),
			":stale":   s(stale),
			":pending": s(claimPending),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return apikey.ErrIdempotencyInFlight
	}
	if err != nil {
		return fmt.Errorf("take over idempotency key: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey deletes c's claim if it is still c's and pending.
func (st *Store) ReleaseIdempotencyKey(ctx context.Context, c apikey.IdempotencyClaim) error {
	_, err := awserr.Call(ctx, st.Client.DeleteItem, &dynamodb.DeleteItemInput{
		TableName:                 &st.Table,
		Key:                       itemKey(idemPK(c), skIdem),
		ConditionExpression:       aws.String("#claim = :claim AND #state = :pending"),
		ExpressionAttributeNames:  names("#claim", "#state"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":claim": s(c.Token), ":pending": s(claimPending)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// completeClaim is the transaction item that marks c done with the created
// key, provided c still holds the claim.
func (st *Store) completeClaim(c apikey.IdempotencyClaim, keyID string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                &st.Table,
		Key:                      itemKey(idemPK(c), skIdem),
		UpdateExpression:         aws.String("SET #state = :done, #key = :key REMOVE #locked"),
		ConditionExpression:      aws.String("#claim = :claim AND #state = :pending"),
		ExpressionAttributeNames: names("#state", "#key", "#locked", "#claim"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":done":    s(claimDone),
			":key":     s(keyID),
			":claim":   s(c.Token),
			":pending": s(claimPending),
		},
	}}
}

func idemRecord(item map[string]types.AttributeValue) *apikey.IdempotencyRecord {
	r := &apikey.IdempotencyRecord{
		Token: getS(item, "claim"),
		Done:  getS(item, "state") == claimDone,
		KeyID: getS(item, "key_id"),
	}
	copy(r.Fingerprint[:], getB(item, "fingerprint"))
	if v, ok := item["locked_until"].(*types.AttributeValueMemberN); ok {
		if ms, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			r.LockedUntil = time.UnixMilli(ms).UTC()
		}
	}
	return r
}

func millis(t time.Time) types.AttributeValue { return n(t.UnixMilli()) }
