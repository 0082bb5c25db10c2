package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

var _ auth.Store = (*Store)(nil)

// maxBatchRounds bounds the retries of unprocessed keys in one lookup.
const maxBatchRounds = 5

// LookupCredentials reads both digest items in one strongly consistent
// BatchGetItem, retrying unprocessed keys.
func (st *Store) LookupCredentials(ctx context.Context, a, bd apikey.Digest) (*auth.Credential, *auth.Credential, error) {
	keys := []map[string]types.AttributeValue{itemKey(digestPK(a[:]), skDigest), itemKey(digestPK(bd[:]), skDigest)}
	found := map[string]map[string]types.AttributeValue{}
	req := map[string]types.KeysAndAttributes{st.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for round := 0; len(req) > 0; round++ {
		if round == maxBatchRounds {
			return nil, nil, errors.New("lookup credentials: unprocessed keys after retries")
		}
		out, err := st.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, nil, fmt.Errorf("lookup credentials: %w", err)
		}
		for _, item := range out.Responses[st.Table] {
			found[getS(item, AttrPK)] = item
		}
		req = out.UnprocessedKeys
	}
	return credential(found[digestPK(a[:])]), credential(found[digestPK(bd[:])]), nil
}

func credential(item map[string]types.AttributeValue) *auth.Credential {
	if item == nil {
		return nil
	}
	c := &auth.Credential{
		KeyID:      getS(item, "key_id"),
		MID:        getS(item, "mid"),
		Type:       apikey.Type(getS(item, "type")),
		Scopes:     getList(item, "scopes"),
		ExpiresAt:  getTime(item, "expires_at"),
		ValidUntil: getTime(item, "valid_until"),
	}
	copy(c.Digest[:], getB(item, "digest"))
	return c
}

// RecordExchange stores the refresh token and sets last_used on both keys in
// one transaction. A key deleted meanwhile fails the write with
// apikey.ErrNotFound, so a revoked key never gets a refresh token.
func (st *Store) RecordExchange(ctx context.Context, r auth.RefreshRecord) error {
	item := map[string]types.AttributeValue{
		AttrPK:          s("REFRESH#" + hexOf(r.Digest[:])),
		AttrSK:          s(skRefresh),
		"family":        s(r.FamilyID),
		"secret_key_id": s(r.SecretKeyID),
		"public_key_id": s(r.PublicKeyID),
		"mid":           s(r.MID),
		"scope":         s(r.Scope),
		"issued_at":     ts(r.IssuedAt),
		"expires_at":    ts(r.ExpiresAt),
		AttrTTL:         n(r.ExpiresAt.Unix()),
	}
	touch := func(id string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName:                 &st.Table,
			Key:                       itemKey(keyPK(id), skMeta),
			UpdateExpression:          aws.String("SET last_used = :now"),
			ConditionExpression:       aws.String("attribute_exists(" + AttrPK + ") AND revoked = :false"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": ts(r.IssuedAt), ":false": &types.AttributeValueMemberBOOL{Value: false}},
		}}
	}
	_, err := st.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &st.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(" + AttrPK + ")")}},
			touch(r.SecretKeyID),
			touch(r.PublicKeyID),
		},
	})
	if failed := conditionFailures(err); failed != nil && (failed[1] || failed[2]) {
		return apikey.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("record exchange: %w", err)
	}
	return nil
}
