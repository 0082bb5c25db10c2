package dynamostore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/awserr"
)

var _ auth.RefreshStore = (*Store)(nil)

func refreshPK(d []byte) string          { return "REFRESH#" + hexOf(d) }
func familyPK(id string) string          { return "FAMILY#" + id }
func boolAV(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

// RecordExchange stores the refresh token of a new family and sets
// last_used on both keys in one transaction. A key deleted, or rolled past
// the generation presented, meanwhile fails the write with
// apikey.ErrNotFound, so such a key never gets a refresh token.
func (st *Store) RecordExchange(ctx context.Context, r auth.RefreshRecord) error {
	var t txn
	t.add(itemRefresh, st.putRefresh(r))
	st.addTouches(&t, r)
	why, err := st.write(ctx, &t)
	if why.failed(itemSecretKey, itemPublicKey) {
		return apikey.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("record exchange: %w", err)
	}
	return nil
}

// RotateRefresh marks the old token rotated (it stays as a tombstone until
// its TTL), stores its successor and sets last_used on both keys, in one
// transaction that also checks the family is not revoked. Of concurrent
// rotations of one token at most one commits.
func (st *Store) RotateRefresh(ctx context.Context, old [sha256.Size]byte, next auth.RefreshRecord) error {
	var t txn
	t.add(itemPresented, types.TransactWriteItem{Update: &types.Update{
		TableName:           &st.Table,
		Key:                 itemKey(refreshPK(old[:]), skRefresh),
		UpdateExpression:    aws.String("SET rotated_at = :now"),
		ConditionExpression: aws.String("attribute_exists(" + AttrPK + ") AND attribute_not_exists(rotated_at) AND attribute_not_exists(revoked_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": ts(next.IssuedAt),
		},
	}})
	t.add(itemRefresh, st.putRefresh(next))
	t.add(itemFamily, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:           &st.Table,
		Key:                 itemKey(familyPK(next.FamilyID), skRevoked),
		ConditionExpression: aws.String("attribute_not_exists(" + AttrPK + ")"),
	}})
	st.addTouches(&t, next)
	why, err := st.write(ctx, &t)
	switch {
	case why.failed(itemFamily, itemSecretKey, itemPublicKey):
		return auth.ErrInvalidGrant // the family was revoked, or a key is gone
	case why.lost(itemPresented):
		// Rotated or revoked by someone else, or being rotated right now:
		// either way the token was presented twice.
		return auth.ErrRefreshConflict
	case err != nil:
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

// LookupRefresh reads a refresh token's record (strongly consistent).
func (st *Store) LookupRefresh(ctx context.Context, digest [sha256.Size]byte) (*auth.RefreshRecord, error) {
	out, err := awserr.Call(ctx, st.Client.GetItem, &dynamodb.GetItemInput{
		TableName:      &st.Table,
		Key:            itemKey(refreshPK(digest[:]), skRefresh),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("lookup refresh token: %w", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	it := out.Item
	r := &auth.RefreshRecord{
		Digest:      digest,
		FamilyID:    getS(it, "family"),
		SecretKeyID: getS(it, "secret_key_id"),
		PublicKeyID: getS(it, "public_key_id"),
		MID:         getS(it, "mid"),
		Scope:       getS(it, "scope"),
		SecretGen:   getN(it, "secret_gen"),
		PublicGen:   getN(it, "public_gen"),
		ValidUntil:  getTime(it, "valid_until"),
		RotatedAt:   getTime(it, "rotated_at"),
		RevokedAt:   getTime(it, "revoked_at"),
	}
	for name, dst := range map[string]*time.Time{"auth_time": &r.AuthTime, "issued_at": &r.IssuedAt, "expires_at": &r.ExpiresAt} {
		if t := getTime(it, name); t != nil {
			*dst = *t
		}
	}
	if r.AuthTime.IsZero() {
		r.AuthTime = r.IssuedAt // a record written before auth_time was kept
	}
	return r, nil
}

// RevokeFamily marks the token revoked and writes the family's revocation
// marker (FAMILY#<id> / REVOKED, expiring at until), in one transaction.
// Every rotation checks the marker, so no token of the family rotates again.
func (st *Store) RevokeFamily(ctx context.Context, r auth.RefreshRecord, at, until time.Time) error {
	var t txn
	t.add(itemPresented, types.TransactWriteItem{Update: &types.Update{
		TableName: &st.Table,
		Key:       itemKey(refreshPK(r.Digest[:]), skRefresh),
		// The record may have expired meanwhile: keep what is there,
		// and give a recreated stub a TTL.
		UpdateExpression:         aws.String("SET revoked_at = if_not_exists(revoked_at, :at), #ttl = if_not_exists(#ttl, :until)"),
		ExpressionAttributeNames: map[string]string{"#ttl": AttrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": ts(at), ":until": n(until.Unix()),
		},
	}})
	t.add(itemFamily, types.TransactWriteItem{Put: &types.Put{TableName: &st.Table, Item: map[string]types.AttributeValue{
		AttrPK:       s(familyPK(r.FamilyID)),
		AttrSK:       s(skRevoked),
		"revoked_at": ts(at),
		AttrTTL:      n(until.Unix()),
	}}})
	if _, err := st.write(ctx, &t); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// putRefresh is the conditional put of a new refresh token's record.
func (st *Store) putRefresh(r auth.RefreshRecord) types.TransactWriteItem {
	item := map[string]types.AttributeValue{
		AttrPK:          s(refreshPK(r.Digest[:])),
		AttrSK:          s(skRefresh),
		"family":        s(r.FamilyID),
		"secret_key_id": s(r.SecretKeyID),
		"public_key_id": s(r.PublicKeyID),
		"mid":           s(r.MID),
		"scope":         s(r.Scope),
		"secret_gen":    n(r.SecretGen),
		"public_gen":    n(r.PublicGen),
		"auth_time":     ts(r.AuthTime),
		"issued_at":     ts(r.IssuedAt),
		"expires_at":    ts(r.ExpiresAt),
		AttrTTL:         n(r.ExpiresAt.Unix()),
	}
	putTime(item, "valid_until", r.ValidUntil)
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           &st.Table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(" + AttrPK + ")"),
	}}
}

// addTouches adds to t the updates of last_used on both keys of r, named
// itemSecretKey and itemPublicKey.
func (st *Store) addTouches(t *txn, r auth.RefreshRecord) {
	t.add(itemSecretKey, st.touch(r.SecretKeyID, r.SecretGen, r.IssuedAt))
	t.add(itemPublicKey, st.touch(r.PublicKeyID, r.PublicGen, r.IssuedAt))
}

// touch sets last_used on a key record, provided it exists, is not
// revoked and still admits generation gen: the current value's, or the one
// before it while the latest roll's grace period runs (as
// auth.KeyState.Admits). A roll that commits between a lookup and this
// write therefore fails the write instead of leaving a token behind.
func (st *Store) touch(id string, gen int64, at time.Time) types.TransactWriteItem {
	cond := "attribute_exists(#pk) AND #revoked = :false AND (#gen = :gen OR " +
		"(#gen = :next AND #prevUntil > :now AND #prevUntil > #rolled))"
	if gen == apikey.FirstGeneration {
		cond = "attribute_exists(#pk) AND #revoked = :false AND (#gen = :gen OR attribute_not_exists(#gen) OR " +
			"(#gen = :next AND #prevUntil > :now AND #prevUntil > #rolled))"
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:           &st.Table,
		Key:                 itemKey(keyPK(id), skMeta),
		UpdateExpression:    aws.String("SET #used = :now"),
		ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrPK, "#used": "last_used", "#revoked": attrRevoked, "#gen": attrGeneration,
			"#prevUntil": attrPreviousValidUntil, "#rolled": attrRolledAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": ts(at), ":false": boolAV(false), ":gen": n(gen), ":next": n(gen + 1),
		},
	}}
}
