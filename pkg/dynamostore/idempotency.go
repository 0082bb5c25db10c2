package dynamostore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
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

// Attributes of idempotency records that writes after the claim change.
const (
	attrState       = "state"
	attrClaim       = "claim"
	attrLockedUntil = "locked_until"
	attrKeyID       = "key_id"
)

func idemPK(c apikey.IdempotencyClaim) string {
	h := sha256.Sum256([]byte(c.Key))
	return "IDEM#" + c.MID + "#" + c.CallerKeyID + "#" + hexOf(h[:])
}

// heldBy: the claim is pending and still the one whose token is given.
func heldBy(token string) expression.ConditionBuilder {
	return expression.And(name(attrClaim).Equal(value(token)), name(attrState).Equal(value(claimPending)))
}

// ClaimIdempotencyKey writes a pending claim unless an unexpired record
// exists; then it returns that record (from the failed write when the
// service sends it back, else from a strongly consistent read).
func (st *Store) ClaimIdempotencyKey(ctx context.Context, c apikey.IdempotencyClaim) (*apikey.IdempotencyRecord, error) {
	item := marshal(newIdempotencyClaim(c))
	e := build(expression.NewBuilder().WithCondition(absent().Or(name(AttrTTL).LessThanEqual(value(c.At.Unix())))))
	for range 2 {
		_, err := awserr.Call(ctx, st.Client.PutItem, &dynamodb.PutItemInput{
			TableName:                           &st.Table,
			Item:                                item,
			ConditionExpression:                 e.Condition(),
			ExpressionAttributeNames:            e.Names(),
			ExpressionAttributeValues:           e.Values(),
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
				Key:            key{idemPK(c), skIdem}.av(),
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				return nil, fmt.Errorf("read idempotency key: %w", err)
			}
			if old = out.Item; old == nil {
				continue // swept between the two calls: claim again
			}
		}
		var prior idempotencyClaim
		if err := attributevalue.UnmarshalMap(old, &prior); err != nil {
			return nil, fmt.Errorf("read idempotency key: %w", err)
		}
		return prior.record(), nil
	}
	return nil, errors.New("claim idempotency key: record changed twice under the claim")
}

// TakeOverIdempotencyKey hands a pending claim whose holder died to c.
func (st *Store) TakeOverIdempotencyKey(ctx context.Context, c apikey.IdempotencyClaim, stale string) error {
	e := build(expression.NewBuilder().
		WithUpdate(expression.Set(name(attrClaim), value(c.Token)).Set(name(attrLockedUntil), value(c.LockedUntil.UnixMilli()))).
		WithCondition(heldBy(stale)))
	_, err := awserr.Call(ctx, st.Client.UpdateItem, &dynamodb.UpdateItemInput{
		TableName:                 &st.Table,
		Key:                       key{idemPK(c), skIdem}.av(),
		UpdateExpression:          e.Update(),
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
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
	e := build(expression.NewBuilder().WithCondition(heldBy(c.Token)))
	_, err := awserr.Call(ctx, st.Client.DeleteItem, &dynamodb.DeleteItemInput{
		TableName:                 &st.Table,
		Key:                       key{idemPK(c), skIdem}.av(),
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
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
	return st.update(key{idemPK(c), skIdem},
		expression.Set(name(attrState), value(claimDone)).Set(name(attrKeyID), value(keyID)).Remove(name(attrLockedUntil)),
		heldBy(c.Token))
}
