package dynamostore

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/auth"
)

var _ auth.KeyStates = (*Store)(nil)

// keyStateAttrs are the attributes of a key record that decide its standing.
var keyStateAttrs = project(AttrPK, "mid", attrRevoked, "expires_at", attrRolledAt, attrPreviousValidUntil, attrGeneration)

// KeyStates reads the standing of keys from their records (KEY#<id> / META)
// in one strongly consistent BatchGetItem; ids without a record are absent.
func (st *Store) KeyStates(ctx context.Context, ids ...string) (map[string]auth.KeyState, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = itemKey(keyPK(id), skMeta)
	}
	found, err := st.batchGet(ctx, keyStateAttrs, keys...)
	if err != nil {
		return nil, fmt.Errorf("read key states: %w", err)
	}
	out := make(map[string]auth.KeyState, len(found))
	for pk, item := range found {
		out[strings.TrimPrefix(pk, keyPK(""))] = auth.KeyState{
			MID:                getS(item, "mid"),
			Revoked:            getBool(item, attrRevoked),
			ExpiresAt:          getTime(item, "expires_at"),
			Generation:         getGeneration(item),
			RolledAt:           getTime(item, attrRolledAt),
			PreviousValidUntil: getTime(item, attrPreviousValidUntil),
		}
	}
	return out, nil
}
