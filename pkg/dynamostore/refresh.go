package dynamostore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/awserr"
)

var _ auth.RefreshStore = (*Store)(nil)

// attrRotatedAt marks a refresh token exchanged for its successor.
const attrRotatedAt = "rotated_at"

func refreshPK(d []byte) string { return "REFRESH#" + hexOf(d) }
func familyPK(id string) string { return "FAMILY#" + id }

// RecordExchange stores the refresh token of a new family, sets last_used
// on both keys and counts the token against the secret key's limit, in one
// transaction. A key deleted, or rolled past the generation presented,
// meanwhile fails the write with apikey.ErrNotFound, so such a key never
// gets a refresh token; a key at its limit fails it with
// auth.ErrRateLimited.
func (st *Store) RecordExchange(ctx context.Context, r auth.RefreshRecord, limit int) error {
	var t txn
	t.add(itemRefresh, st.put(newRefreshRecord(r), absent()))
	st.addTouches(&t, r)
	t.add(itemRate, st.countToken(r.SecretKeyID, r.IssuedAt, limit))
	why, err := st.write(ctx, &t)
	switch {
	case why.failed(itemSecretKey, itemPublicKey):
		return apikey.ErrNotFound
	case why.failed(itemRate):
		return auth.ErrRateLimited
	case err != nil:
		return fmt.Errorf("record exchange: %w", err)
	}
	return nil
}

// RotateRefresh marks the old token rotated (it stays as a tombstone until
// its TTL), stores its successor, sets last_used on both keys and counts
// the token against the secret key's limit, in one transaction that also
// checks the family is not revoked. Of concurrent rotations of one token
// at most one commits.
func (st *Store) RotateRefresh(ctx context.Context, old [sha256.Size]byte, next auth.RefreshRecord, limit int) error {
	var t txn
	t.add(itemPresented, st.update(key{refreshPK(old[:]), skRefresh},
		expression.Set(name(attrRotatedAt), value(stamp(next.IssuedAt))),
		expression.And(exists(), name(attrRotatedAt).AttributeNotExists(), name(attrRevokedAt).AttributeNotExists(), name(attrWithdrawnAt).AttributeNotExists())))
	t.add(itemRefresh, st.put(newRefreshRecord(next), absent()))
	t.add(itemFamily, st.check(key{familyPK(next.FamilyID), skRevoked}, absent()))
	st.addTouches(&t, next)
	t.add(itemRate, st.countToken(next.SecretKeyID, next.IssuedAt, limit))
	why, err := st.write(ctx, &t)
	switch {
	case why.failed(itemFamily, itemSecretKey, itemPublicKey):
		return auth.ErrInvalidGrant // the family was revoked, or a key is gone
	case why.lost(itemPresented):
		// Rotated or revoked by someone else, or being rotated right now:
		// either way the token was presented twice.
		return auth.ErrRefreshConflict
	case why.failed(itemRate):
		return auth.ErrRateLimited
	case err != nil:
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

// LookupRefresh reads a refresh token's record (strongly consistent).
func (st *Store) LookupRefresh(ctx context.Context, digest [sha256.Size]byte) (*auth.RefreshRecord, error) {
	out, err := awserr.Call(ctx, st.Client.GetItem, &dynamodb.GetItemInput{
		TableName:      &st.Table,
		Key:            key{refreshPK(digest[:]), skRefresh}.av(),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("lookup refresh token: %w", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var rec refreshRecord
	if err := attributevalue.UnmarshalMap(out.Item, &rec); err != nil {
		return nil, fmt.Errorf("lookup refresh token: %w", err)
	}
	return rec.record(digest), nil
}

// RevokeFamily marks the token revoked and writes the family's revocation
// marker (FAMILY#<id> / REVOKED, expiring at until), in one transaction.
// Every rotation checks the marker, so no token of the family rotates again.
func (st *Store) RevokeFamily(ctx context.Context, r auth.RefreshRecord, at, until time.Time, ev *audit.Event) error {
	var t txn
	// The record may have expired meanwhile: keep what is there, and give a
	// recreated stub a TTL.
	t.add(itemPresented, st.update(key{refreshPK(r.Digest[:]), skRefresh},
		expression.Set(name(attrRevokedAt), name(attrRevokedAt).IfNotExists(value(stamp(at)))).
			Set(name(AttrTTL), name(AttrTTL).IfNotExists(value(until.Unix()))),
		noCondition))
	t.add(itemFamily, st.put(familyMarker{key: key{familyPK(r.FamilyID), skRevoked}, RevokedAt: stamp(at), TTL: until.Unix()}, noCondition))
	st.addEvent(&t, ev)
	if _, err := st.write(ctx, &t); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
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
	g, prevUntil := name(attrGeneration), name(attrPreviousValidUntil)
	admits := g.Equal(value(gen))
	if gen == apikey.FirstGeneration {
		admits = admits.Or(g.AttributeNotExists()) // a record from before generations
	}
	inGrace := expression.And(g.Equal(value(gen+1)), prevUntil.GreaterThan(value(stamp(at))), prevUntil.GreaterThan(name(attrRolledAt)))
	return st.update(key{keyPK(id), skMeta},
		expression.Set(name(attrLastUsed), value(stamp(at))),
		expression.And(exists(), notRevoked(), admits.Or(inGrace)))
}

// attrWithdrawnAt marks a refresh token whose issue was withdrawn.
const attrWithdrawnAt = "withdrawn_at"

// WithdrawIssue marks r withdrawn (it reads as revoked), takes its token off
// the secret key's count and, for a rotation, clears the rotation of the
// token it replaced (only the one that r's rotation made), in one
// transaction.
func (st *Store) WithdrawIssue(ctx context.Context, r auth.RefreshRecord, replaced *[sha256.Size]byte) error {
	var t txn
	t.add(itemRefresh, st.update(key{refreshPK(r.Digest[:]), skRefresh},
		expression.Set(name(attrWithdrawnAt), name(attrWithdrawnAt).IfNotExists(value(stamp(r.IssuedAt)))),
		exists()))
	t.add(itemRate, st.uncountToken(r.SecretKeyID, r.IssuedAt))
	if replaced != nil {
		t.add(itemPresented, st.update(key{refreshPK(replaced[:]), skRefresh},
			expression.Remove(name(attrRotatedAt)),
			name(attrRotatedAt).Equal(value(stamp(r.IssuedAt)))))
	}
	if _, err := st.write(ctx, &t); err != nil {
		return fmt.Errorf("withdraw issue: %w", err)
	}
	return nil
}
