package memstore

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/auth"
)

// RecordExchange stores the refresh token of a new family, sets last_used
// on both keys and counts the token of the minute, provided both keys
// still admit the generations presented (see touchable): else
// apikey.ErrNotFound; and provided the secret key obtained fewer than
// limit tokens in the minute: else auth.ErrRateLimited. A digest already
// stored fails it too.
func (st *Store) RecordExchange(_ context.Context, r auth.RefreshRecord, limit int) error {
	st.lock()
	defer st.mu.Unlock()
	_, taken := st.refresh[r.Digest]
	secOK, pubOK := st.touchable(r.SecretKeyID, r.SecretGen, r.IssuedAt), st.touchable(r.PublicKeyID, r.PublicGen, r.IssuedAt)
	switch {
	case !secOK || !pubOK:
		return apikey.ErrNotFound
	case st.counts[minuteOf(r)] >= limit:
		return auth.ErrRateLimited
	case taken:
		return wrap("record exchange", errConditionFailed)
	case r.SecretKeyID == r.PublicKeyID:
		return wrap("record exchange", errSameItemTwice)
	}
	st.putRefresh(r)
	return nil
}

// RotateRefresh marks old rotated (it stays as a tombstone), stores next,
// sets last_used on both keys and counts the token of the minute, all at
// once. auth.ErrInvalidGrant when next's family was revoked or a key no
// longer admits next's generations; else auth.ErrRefreshConflict when old
// is unknown, rotated or revoked; else auth.ErrRateLimited when the secret
// key obtained limit tokens in the minute.
func (st *Store) RotateRefresh(_ context.Context, old [sha256.Size]byte, next auth.RefreshRecord, limit int) error {
	st.lock()
	defer st.mu.Unlock()
	prev, found := st.refresh[old]
	_, taken := st.refresh[next.Digest]
	_, familyRevoked := st.families[next.FamilyID]
	secOK, pubOK := st.touchable(next.SecretKeyID, next.SecretGen, next.IssuedAt), st.touchable(next.PublicKeyID, next.PublicGen, next.IssuedAt)
	switch {
	case familyRevoked || !secOK || !pubOK:
		return auth.ErrInvalidGrant
	case !found || prev.RotatedAt != nil || prev.RevokedAt != nil:
		return auth.ErrRefreshConflict
	case st.counts[minuteOf(next)] >= limit:
		return auth.ErrRateLimited
	case taken:
		return wrap("rotate refresh token", errConditionFailed)
	case next.SecretKeyID == next.PublicKeyID:
		return wrap("rotate refresh token", errSameItemTwice)
	}
	at := sec(next.IssuedAt)
	prev.RotatedAt = &at
	st.putRefresh(next)
	return nil
}

// touchable is the adapter's condition on a key record when a token of
// generation gen is recorded at: the record exists, is not revoked, and
// gen is the current value's, or the one before it while the latest roll's
// grace runs. Unlike auth.KeyState.Admits it reads neither the merchant
// nor the key's expiry: the lookup before the write checks those.
func (st *Store) touchable(id string, gen int64, at time.Time) bool {
	r, ok := st.records[id]
	if !ok || r.key.Revoked {
		return false
	}
	k := r.key
	inGrace := k.RolledAt != nil && k.PreviousValidUntil != nil &&
		k.PreviousValidUntil.After(sec(at)) && k.PreviousValidUntil.After(*k.RolledAt)
	return k.Generation == gen || (k.Generation == gen+1 && inGrace)
}

// tokenMinute names a secret key's count of tokens in one minute.
type tokenMinute struct {
	keyID  string
	minute time.Time
}

// minuteOf is the count a token issued as r is counted in.
func minuteOf(r auth.RefreshRecord) tokenMinute {
	return tokenMinute{r.SecretKeyID, auth.TokenMinute(r.IssuedAt)}
}

// putRefresh stores a new refresh token, sets last_used on its keys
// (touchable holds for both) and counts the token.
func (st *Store) putRefresh(r auth.RefreshRecord) {
	st.counts[minuteOf(r)]++
	r.AuthTime, r.IssuedAt, r.ExpiresAt = sec(r.AuthTime), sec(r.IssuedAt), sec(r.ExpiresAt)
	r.ValidUntil = secp(r.ValidUntil)
	r.RotatedAt, r.RevokedAt = nil, nil
	st.refresh[r.Digest] = &r
	for _, id := range []string{r.SecretKeyID, r.PublicKeyID} {
		used := r.IssuedAt
		st.records[id].key.LastUsed = &used
	}
}

// LookupRefresh returns the record of a token digest, nil when unknown.
func (st *Store) LookupRefresh(_ context.Context, digest [sha256.Size]byte) (*auth.RefreshRecord, error) {
	st.lock()
	defer st.mu.Unlock()
	r, ok := st.refresh[digest]
	if !ok {
		return nil, nil
	}
	out := *r
	out.ValidUntil, out.RotatedAt, out.RevokedAt = clonep(r.ValidUntil), clonep(r.RotatedAt), clonep(r.RevokedAt)
	if out.AuthTime.IsZero() {
		out.AuthTime = out.IssuedAt // as the adapter reads a record without auth_time
	}
	return &out, nil
}

// RevokeFamily marks r's record revoked at `at` (keeping an earlier
// revocation; an unknown digest gets a revoked stub, as the table's upsert
// does) and bars every token of r's family from rotation.
func (st *Store) RevokeFamily(_ context.Context, r auth.RefreshRecord, at, until time.Time, ev *audit.Event) error {
	st.lock()
	defer st.mu.Unlock()
	st.appendEvent(ev)
	rec, ok := st.refresh[r.Digest]
	if !ok {
		rec = &auth.RefreshRecord{Digest: r.Digest}
		st.refresh[r.Digest] = rec
	}
	if rec.RevokedAt == nil {
		t := sec(at)
		rec.RevokedAt = &t
	}
	st.families[r.FamilyID] = sec(until)
	return nil
}

// WithdrawIssue marks r revoked (keeping an earlier revocation), takes its
// token off the secret key's count and, when replaced is set, clears the
// rotation that r's rotation made, all at once; an error, and no change,
// when r is unknown, no token is counted, or replaced was not rotated by r.
func (st *Store) WithdrawIssue(_ context.Context, r auth.RefreshRecord, replaced *[sha256.Size]byte) error {
	st.lock()
	defer st.mu.Unlock()
	rec, ok := st.refresh[r.Digest]
	var prev *auth.RefreshRecord
	if replaced != nil {
		prev = st.refresh[*replaced]
	}
	switch {
	case !ok, st.counts[minuteOf(r)] <= 0:
		return wrap("withdraw issue", errConditionFailed)
	case replaced != nil && (prev == nil || prev.RotatedAt == nil || !prev.RotatedAt.Equal(sec(r.IssuedAt))):
		return wrap("withdraw issue", errConditionFailed)
	}
	if rec.RevokedAt == nil {
		at := sec(r.IssuedAt)
		rec.RevokedAt = &at
	}
	st.counts[minuteOf(r)]--
	if prev != nil {
		prev.RotatedAt = nil
	}
	return nil
}
