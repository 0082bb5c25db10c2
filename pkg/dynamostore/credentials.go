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
	"github.com/flexfactor/credplane/pkg/awserr"
)

var _ auth.Store = (*Store)(nil)

// maxBatchRounds bounds the retries of unprocessed keys in one lookup.
const maxBatchRounds = 5

// LookupCredentials reads both digest items in one strongly consistent
// BatchGetItem, retrying unprocessed keys.
func (st *Store) LookupCredentials(ctx context.Context, a, bd apikey.Digest) (*auth.Credential, *auth.Credential, error) {
	found, err := st.batchGet(ctx, nil, itemKey(digestPK(a[:]), skDigest), itemKey(digestPK(bd[:]), skDigest))
	if err != nil {
		return nil, nil, fmt.Errorf("lookup credentials: %w", err)
	}
	return credential(found[digestPK(a[:])]), credential(found[digestPK(bd[:])]), nil
}

// batchGet reads items in strongly consistent BatchGetItem calls, retrying
// unprocessed keys, and returns them by partition key. Duplicate keys are
// read once; proj, when set, limits the attributes read.
func (st *Store) batchGet(ctx context.Context, proj *projection, keys ...map[string]types.AttributeValue) (map[string]map[string]types.AttributeValue, error) {
	seen := map[string]bool{}
	ka := types.KeysAndAttributes{ConsistentRead: aws.Bool(true)}
	for _, k := range keys {
		if id := getS(k, AttrPK) + "|" + getS(k, AttrSK); !seen[id] {
			seen[id] = true
			ka.Keys = append(ka.Keys, k)
		}
	}
	if proj != nil {
		ka.ProjectionExpression, ka.ExpressionAttributeNames = proj.expr, proj.names
	}
	found := map[string]map[string]types.AttributeValue{}
	req := map[string]types.KeysAndAttributes{st.Table: ka}
	for round := 0; len(req) > 0; round++ {
		if round == maxBatchRounds {
			return nil, errors.New("unprocessed keys after retries")
		}
		out, err := awserr.Call(ctx, st.Client.BatchGetItem, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		for _, item := range out.Responses[st.Table] {
			found[getS(item, AttrPK)] = item
		}
		req = out.UnprocessedKeys
	}
	return found, nil
}

// projection is a ProjectionExpression with its attribute names.
type projection struct {
	expr  *string
	names map[string]string
}

// project builds a projection of the named attributes (all aliased, so
// reserved words need no care).
func project(attrs ...string) *projection {
	p := &projection{names: map[string]string{}}
	expr := ""
	for i, a := range attrs {
		alias := fmt.Sprintf("#a%d", i)
		p.names[alias] = a
		if i > 0 {
			expr += ", "
		}
		expr += alias
	}
	p.expr = aws.String(expr)
	return p
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
		Generation: getGeneration(item),
	}
	copy(c.Digest[:], getB(item, "digest"))
	return c
}
