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

var _ apikey.LeakStore = (*Store)(nil)

// KeyIDByDigest reads the lookup of a value (strongly consistent) and
// returns the key it names; apikey.ErrNotFound when there is none.
func (st *Store) KeyIDByDigest(ctx context.Context, d apikey.Digest) (string, error) {
	e := build(expression.NewBuilder().WithProjection(project("key_id")))
	out, err := awserr.Call(ctx, st.Client.GetItem, &dynamodb.GetItemInput{
		TableName:                &st.Table,
		Key:                      key{digestPK(d[:]), skDigest}.av(),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     e.Projection(),
		ExpressionAttributeNames: e.Names(),
	})
	if err != nil {
		return "", fmt.Errorf("find key by digest: %w", err)
	}
	var l digestLookup
	if out.Item == nil {
		return "", apikey.ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(out.Item, &l); err != nil {
		return "", fmt.Errorf("find key by digest: %w", err)
	}
	return l.KeyID, nil
}

// EndGrace ends a rolled key's grace at once, in one transaction: the old
// value's lookup is deleted and the record's previous_valid_until set to
// g.At (previous_digest removed), on the condition that the record is
// unrevoked and still names g.PreviousDigest (else apikey.ErrConflict);
// the audit event is appended.
func (st *Store) EndGrace(ctx context.Context, g apikey.GraceEnd) error {
	var t txn
	t.add(itemRecord, st.update(key{keyPK(g.ID), skMeta},
		expression.Set(name(attrPreviousValidUntil), value(stamp(g.At))).Remove(name(attrPreviousDigest)),
		expression.And(exists(), notRevoked(), name(attrPreviousDigest).Equal(value(g.PreviousDigest[:])))))
	t.add(itemOldDigest, st.remove(key{digestPK(g.PreviousDigest[:]), skDigest}))
	st.addEvent(&t, g.Event)
	why, err := st.write(ctx, &t)
	switch {
	case why.lost(itemRecord):
		return apikey.ErrConflict
	case err != nil:
		return fmt.Errorf("end grace: %w", err)
	}
	return nil
}
