package dynamostore

import (
	"context"
	"fmt"
	"strings"

	"github.com/flexfactor/credplane/pkg/auth"
)

var _ auth.KeyStates = (*Store)(nil)

// keyStateAttrs are the attributes of a key record that decide its standing.
var keyStateAttrs = []string{AttrPK, "mid", attrRevoked, "expires_at", attrRolledAt, attrPreviousValidUntil, attrGeneration}

// KeyStates reads the standing of keys from their records (KEY#<id> / META)
// in one strongly consistent BatchGetItem; ids without a record are absent.
func (st *Store) KeyStates(ctx context.Context, ids ...string) (map[string]auth.KeyState, error) {
	keys := make([]key, len(ids))
	for i, id := range ids {
		keys[i] = key{keyPK(id), skMeta}
	}
	found, err := batchGet[keyRecord](ctx, st, keyStateAttrs, keys...)
	if err != nil {
		return nil, fmt.Errorf("read key states: %w", err)
	}
	out := make(map[string]auth.KeyState, len(found))
	for _, r := range found {
		out[strings.TrimPrefix(r.PK, keyPK(""))] = r.keyState()
	}
	return out, nil
}
