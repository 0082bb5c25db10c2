package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/awserr"
)

var _ auth.Store = (*Store)(nil)

// maxBatchRounds bounds the retries of unprocessed keys in one lookup.
const maxBatchRounds = 5

// LookupCredentials reads both digest items in one strongly consistent
// BatchGetItem, retrying unprocessed keys.
func (st *Store) LookupCredentials(ctx context.Context, a, b apikey.Digest) (*auth.Credential, *auth.Credential, error) {
	found, err := batchGet[digestLookup](ctx, st, nil, key{digestPK(a[:]), skDigest}, key{digestPK(b[:]), skDigest})
	if err != nil {
		return nil, nil, fmt.Errorf("lookup credentials: %w", err)
	}
	byPK := make(map[string]*auth.Credential, len(found))
	for _, l := range found {
		byPK[l.PK] = l.credential()
	}
	return byPK[digestPK(a[:])], byPK[digestPK(b[:])], nil
}

// batchGet reads the items at keys into T in strongly consistent
// BatchGetItem calls, retrying unprocessed keys. Duplicate keys are read
// once; attrs, when set, are the only attributes read.
func batchGet[T any](ctx context.Context, st *Store, attrs []string, keys ...key) ([]T, error) {
	seen := map[key]bool{}
	ka := types.KeysAndAttributes{ConsistentRead: aws.Bool(true)}
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			ka.Keys = append(ka.Keys, k.av())
		}
	}
	if len(attrs) > 0 {
		e := build(expression.NewBuilder().WithProjection(project(attrs...)))
		ka.ProjectionExpression, ka.ExpressionAttributeNames = e.Projection(), e.Names()
	}
	var found []map[string]types.AttributeValue
	req := map[string]types.KeysAndAttributes{st.Table: ka}
	for round := 0; len(req) > 0; round++ {
		if round == maxBatchRounds {
			return nil, errors.New("unprocessed keys after retries")
		}
		out, err := awserr.Call(ctx, st.Client.BatchGetItem, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		found = append(found, out.Responses[st.Table]...)
		req = out.UnprocessedKeys
	}
	var items []T
	if err := attributevalue.UnmarshalListOfMaps(found, &items); err != nil {
		return nil, err
	}
	return items, nil
}
