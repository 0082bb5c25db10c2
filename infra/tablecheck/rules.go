package tablecheck

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/scope"
)

// Rules: the stable names of the invariants a violation breaks.
const (
	// RuleMalformed: an item lacks an attribute its kind always has, holds
	// one of the wrong type or shape, or disagrees with its own key.
	RuleMalformed = "malformed"
	// RuleUnknownItem: an item of no kind the service writes.
	RuleUnknownItem = "unknown-item"
	// RuleRecordState: a key record's revocation, roll and generation
	// attributes contradict each other.
	RuleRecordState = "record-state"
	// RuleDigestMissing: a live key has no lookup item for its current value.
	RuleDigestMissing = "digest-missing"
	// RulePreviousDigestMissing: a live key in its grace period has no
	// lookup item for its previous value.
	RulePreviousDigestMissing = "previous-digest-missing"
	// RuleDigestOrphan: a lookup item names no key record.
	RuleDigestOrphan = "digest-orphan"
	// RuleDigestRevoked: a lookup item names a revoked key, so a deleted
	// key's value could still authenticate.
	RuleDigestRevoked = "digest-revoked"
	// RuleDigestStray: a lookup item names a key whose current and previous
	// values are both other values.
	RuleDigestStray = "digest-stray"
	// RuleDigestMismatch: a lookup item disagrees with its key record
	// (merchant, type, scopes, expiry, generation or grace period).
	RuleDigestMismatch = "digest-mismatch"
	// RuleValueOrphan: a sealed value of no key record.
	RuleValueOrphan = "value-orphan"
	// RuleValueMissing: a public or tokenization key has no sealed value.
	RuleValueMissing = "value-missing"
	// RuleValueTTL: a secret's sealed value outlives its replay window, or
	// a public or tokenization value is set to expire.
	RuleValueTTL = "value-ttl"
	// RuleRefreshKey: a refresh token names a key that is missing, of
	// another merchant or type, or at a generation the key never had.
	RuleRefreshKey = "refresh-key"
	// RuleRefreshTimes: a refresh token's times are out of order or
	// outlive its family.
	RuleRefreshTimes = "refresh-times"
	// RuleFamilyIncoherent: the tokens of one family disagree on what they
	// were issued for, or more than one of them can still be rotated.
	RuleFamilyIncoherent = "family-incoherent"
	// RuleFamilyUnmarked: a revoked refresh token whose family carries no
	// revocation marker.
	RuleFamilyUnmarked = "family-unmarked"
	// RuleRateKey: a token count of a key that is missing or not a secret
	// key, or one with no count or no expiry.
	RuleRateKey = "rate-key"
	// RuleIdemCaller: an idempotency record of a calling key that is
	// missing or not a secret key of that merchant.
	RuleIdemCaller = "idem-caller"
	// RuleIdemKey: a finished idempotency record naming no key of its
	// merchant.
	RuleIdemKey = "idem-key"
	// RuleOnboardKey: an onboarding claim naming keys that are missing or
	// not that merchant's secret and public keys.
	RuleOnboardKey = "onboard-key"
)

// Lifetimes the service gives what it stores (pkg/apikey, pkg/auth).
const (
	secretReplayWindow = 24 * time.Hour
	refreshFamilyLife  = 24 * time.Hour
	idempotencyWindow  = 24 * time.Hour
)

// check finds every violation in a snapshot taken at about now.
func check(snap map[Ref]Item, now time.Time) ([]Violation, Counts) {
	v := newView(snap)
	for _, k := range sortedRecords(v) {
		v.checkRecord(k, now)
	}
	for _, s := range v.values {
		v.checkValue(s)
	}
	for _, d := range v.digests {
		v.checkDigest(d)
	}
	v.checkRefresh(now)
	for _, f := range v.families {
		if _, ok := parseTime(f.RevokedAt); !ok || f.RevokedAt == "" || f.TTL == nil {
			v.report(RuleMalformed, f.ref, "a revoked family needs revoked_at and ttl")
		}
	}
	for _, i := range v.idem {
		v.checkIdem(i)
	}
	for _, o := range v.onboard {
		v.checkOnboard(o)
	}
	for _, c := range v.rates {
		v.checkRate(c)
	}
	slices.SortStableFunc(v.found, func(a, b Violation) int { return strings.Compare(a.Item.PK+a.Item.SK, b.Item.PK+b.Item.SK) })
	return v.found, v.counts
}

func sortedRecords(v *view) []*keyRecord {
	out := make([]*keyRecord, 0, len(v.records))
	for _, k := range v.records {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *keyRecord) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func digestRef(d []byte) Ref  { return Ref{pfxDigest + hex.EncodeToString(d), skDigest} }
func recordRef(id string) Ref { return Ref{pfxKey + id, skMeta} }
func valueRef(id string) Ref  { return Ref{pfxKey + id, skValue} }

// times parses RFC 3339 attributes by name; bad lists the unreadable ones.
func times(attrs map[string]string) (map[string]time.Time, []string) {
	out := map[string]time.Time{}
	var bad []string
	for name, raw := range attrs {
		t, ok := parseTime(raw)
		if !ok {
			bad = append(bad, name)
		}
		out[name] = t
	}
	slices.Sort(bad)
	return out, bad
}

// checkRecord checks a key record's shape and state, and that a live key
// has the lookup items of its current value and of a previous value still
// in its grace period.
func (v *view) checkRecord(k *keyRecord, now time.Time) {
	id := strings.TrimPrefix(k.ref.PK, pfxKey)
	var bad []string
	if k.ID != id || !apikey.ValidID(id) {
		bad = append(bad, "id does not match the key")
	}
	if !apikey.ValidMID(k.MID) || k.GSI1PK != pfxMID+k.MID || k.GSI1SK != id {
		bad = append(bad, "mid or merchant index attributes")
	}
	if !apikey.Type(k.Type).Valid() {
		bad = append(bad, "type")
	}
	for _, s := range k.Scopes {
		if !scope.Valid(s) {
			bad = append(bad, "scopes")
			break
		}
	}
	if k.Revoked == nil {
		bad = append(bad, "revoked")
	}
	if len(k.Digest) != digestLen || (k.PreviousDigest != nil && len(k.PreviousDigest) != digestLen) {
		bad = append(bad, "digest")
	}
	if k.Generation != nil && *k.Generation < 1 {
		bad = append(bad, "generation")
	}
	t, badTimes := times(map[string]string{
		"created_at": k.CreatedAt, "expires_at": k.ExpiresAt, "revoked_at": k.RevokedAt,
		"rolled_at": k.RolledAt, "previous_valid_until": k.PreviousValidUntil,
	})
	if k.CreatedAt == "" {
		badTimes = append(badTimes, "created_at")
	}
	bad = append(bad, badTimes...)
	if len(bad) > 0 {
		v.report(RuleMalformed, k.ref, "bad or missing "+strings.Join(bad, ", "))
		return
	}

	var state []string
	if k.revoked() != (k.RevokedAt != "") {
		state = append(state, "revoked and revoked_at disagree")
	}
	if k.RevokedAt != "" && t["revoked_at"].Before(t["created_at"]) {
		state = append(state, "revoked before it was created")
	}
	rolled := k.RolledAt != ""
	if k.Generation != nil && rolled != (*k.Generation > 1) {
		state = append(state, fmt.Sprintf("generation %d with rolled_at %q", *k.Generation, k.RolledAt))
	}
	if rolled != (k.PreviousValidUntil != "") {
		state = append(state, "rolled_at and previous_valid_until come apart")
	}
	if rolled && (t["rolled_at"].Before(t["created_at"]) || t["previous_valid_until"].Before(t["rolled_at"])) {
		state = append(state, "roll times out of order")
	}
	if k.PreviousDigest != nil && (!rolled || string(k.PreviousDigest) == string(k.Digest)) {
		state = append(state, "previous_digest without a roll, or equal to digest")
	}
	if len(state) > 0 {
		v.report(RuleRecordState, k.ref, strings.Join(state, "; "))
	}
	if k.revoked() {
		return // a revoked key must have no lookup items: checkDigest sees to it
	}
	cur := digestRef(k.Digest)
	if d := v.digests[cur.PK]; d == nil || d.KeyID != k.ID {
		v.report(RuleDigestMissing, k.ref, "no lookup item names this key for its current value", cur)
	}
	if k.PreviousDigest != nil && t["previous_valid_until"].After(now) {
		prev := digestRef(k.PreviousDigest)
		if d := v.digests[prev.PK]; d == nil || d.KeyID != k.ID {
			v.report(RulePreviousDigestMissing, k.ref, "in its grace period until "+k.PreviousValidUntil+", but no lookup item names this key for its previous value", prev)
		}
	}
	if k.Type != string(apikey.Secret) && v.values[id] == nil {
		v.report(RuleValueMissing, k.ref, "a "+k.Type+" key's value is kept, but there is no sealed value", valueRef(id))
	}
}

// checkValue checks that a sealed value belongs to a key and expires as
// its type says.
func (v *view) checkValue(s *sealedValue) {
	id := strings.TrimPrefix(s.ref.PK, pfxKey)
	if len(s.EncryptedKey) == 0 || len(s.Nonce) == 0 || len(s.Ciphertext) == 0 {
		v.report(RuleMalformed, s.ref, "needs edk, nonce and ct")
	}
	k := v.records[id]
	if k == nil {
		v.report(RuleValueOrphan, s.ref, "no key record "+id, recordRef(id))
		return
	}
	if k.Type != string(apikey.Secret) {
		if s.TTL != nil {
			v.report(RuleValueTTL, s.ref, "a "+k.Type+" key's value must be kept, but it has a ttl", k.ref)
		}
		return
	}
	minted, _ := parseTime(k.CreatedAt)
	if rolled, _ := parseTime(k.RolledAt); rolled.After(minted) {
		minted = rolled
	}
	// Stored times are whole seconds; the ttl was computed from the exact time.
	limit := minted.Add(secretReplayWindow + time.Second).Unix()
	if s.TTL == nil || *s.TTL > limit {
		v.report(RuleValueTTL, s.ref, "a secret's sealed value must expire within 24 h of its minting", k.ref)
	}
}

// checkDigest checks that a lookup item names a live key whose current or
// previous value it is, and agrees with the record on everything the token
// path reads from it.
func (v *view) checkDigest(d *digestItem) {
	hexPart := strings.TrimPrefix(d.ref.PK, pfxDigest)
	if len(d.Digest) != digestLen || hex.EncodeToString(d.Digest) != hexPart || d.KeyID == "" ||
		(d.Generation != nil && *d.Generation < 1) || (d.TTL != nil && d.ValidUntil == "") {
		v.report(RuleMalformed, d.ref, "digest, key_id, generation or ttl")
		return
	}
	k := v.records[d.KeyID]
	rec := recordRef(d.KeyID)
	switch {
	case k == nil:
		v.report(RuleDigestOrphan, d.ref, "names key "+d.KeyID+", which has no record", rec)
		return
	case k.revoked():
		v.report(RuleDigestRevoked, d.ref, "names key "+d.KeyID+", which was deleted: its value still authenticates", rec)
		return
	}
	current := string(d.Digest) == string(k.Digest)
	if !current && string(d.Digest) != string(k.PreviousDigest) {
		v.report(RuleDigestStray, d.ref, "names key "+d.KeyID+", whose current and previous values are others", rec)
		return
	}
	var diff []string
	if d.MID != k.MID {
		diff = append(diff, "mid")
	}
	if d.Type != k.Type {
		diff = append(diff, "type")
	}
	if !slices.Equal(d.Scopes, k.Scopes) {
		diff = append(diff, "scopes")
	}
	if !sameTime(d.ExpiresAt, k.ExpiresAt) {
		diff = append(diff, "expires_at")
	}
	if current {
		v.counts.add(KindDigest, "current value")
		if d.generation() != k.generation() {
			diff = append(diff, fmt.Sprintf("generation %d, the key's is %d", d.generation(), k.generation()))
		}
		if d.ValidUntil != "" || d.TTL != nil {
			diff = append(diff, "a current value has no valid_until or ttl")
		}
	} else {
		v.counts.add(KindDigest, "previous value")
		if d.generation() != k.generation()-1 {
			diff = append(diff, fmt.Sprintf("generation %d for the value before the key's %d", d.generation(), k.generation()))
		}
		until, _ := parseTime(d.ValidUntil)
		if d.ValidUntil == "" || !sameTime(d.ValidUntil, k.PreviousValidUntil) || d.TTL == nil || *d.TTL != until.Unix() {
			diff = append(diff, "a previous value needs valid_until and ttl at the key's previous_valid_until")
		}
	}
	if len(diff) > 0 {
		v.report(RuleDigestMismatch, d.ref, "disagrees with key "+d.KeyID+": "+strings.Join(diff, "; "), rec)
	}
}

// sameTime compares two optional RFC 3339 attributes as times.
func sameTime(a, b string) bool {
	ta, oka := parseTime(a)
	tb, okb := parseTime(b)
	return oka && okb && (a == "") == (b == "") && ta.Equal(tb)
}

// checkRefresh checks each refresh token against its keys and times, and
// each family as a whole.
func (v *view) checkRefresh(now time.Time) {
	type family struct {
		first *refreshItem
		heads int
	}
	families := map[string]*family{}
	for _, r := range v.refresh {
		if r.WithdrawnAt != "" {
			continue // never handed out: as if it had not been written
		}
		if r.stub() {
			if r.TTL == nil {
				v.report(RuleMalformed, r.ref, "a revoked stub needs a ttl")
			}
			continue
		}
		t, bad := times(map[string]string{
			"auth_time": r.AuthTime, "issued_at": r.IssuedAt, "expires_at": r.ExpiresAt,
			"valid_until": r.ValidUntil, "rotated_at": r.RotatedAt, "revoked_at": r.RevokedAt,
		})
		if r.Family == "" || r.SecretKeyID == "" || r.PublicKeyID == "" || !apikey.ValidMID(r.MID) ||
			r.SecretGen == nil || *r.SecretGen < 1 || r.PublicGen == nil || *r.PublicGen < 1 ||
			r.AuthTime == "" || r.IssuedAt == "" || r.ExpiresAt == "" || r.TTL == nil || len(bad) > 0 {
			v.report(RuleMalformed, r.ref, "family, key ids, mid, generations, times and ttl are required")
			continue
		}
		v.checkRefreshKey(r, r.SecretKeyID, *r.SecretGen, apikey.Secret)
		v.checkRefreshKey(r, r.PublicKeyID, *r.PublicGen, apikey.Public)

		var order []string
		if *r.TTL != t["expires_at"].Unix() {
			order = append(order, "ttl is not expires_at")
		}
		if t["issued_at"].Before(t["auth_time"]) || t["expires_at"].Before(t["issued_at"]) {
			order = append(order, "auth_time <= issued_at <= expires_at does not hold")
		}
		if t["expires_at"].After(t["auth_time"].Add(refreshFamilyLife)) {
			order = append(order, "expires after its family's 24 h")
		}
		if (r.RotatedAt != "" && t["rotated_at"].Before(t["issued_at"])) || (r.RevokedAt != "" && t["revoked_at"].Before(t["issued_at"])) {
			order = append(order, "rotated or revoked before it was issued")
		}
		if len(order) > 0 {
			v.report(RuleRefreshTimes, r.ref, strings.Join(order, "; "))
		}

		marker := Ref{pfxFamily + r.Family, skRevoked}
		if r.RevokedAt != "" && *r.TTL > now.Unix() && v.families[r.Family] == nil {
			v.report(RuleFamilyUnmarked, r.ref, "revoked, but family "+r.Family+" is not marked revoked", marker)
		}
		f := families[r.Family]
		if f == nil {
			f = &family{first: r}
			families[r.Family] = f
		} else if !sameIssue(f.first, r) {
			v.report(RuleFamilyIncoherent, r.ref, "family "+r.Family+": keys, generations, merchant, auth_time or valid_until differ from its other tokens", f.first.ref)
		}
		if r.head() {
			if f.heads++; f.heads == 2 {
				v.report(RuleFamilyIncoherent, r.ref, "family "+r.Family+" has more than one token that can still be rotated", f.first.ref)
			}
		}
	}
}

// sameIssue reports whether two tokens were issued for the same thing, as
// the tokens of one family are.
func sameIssue(a, b *refreshItem) bool {
	return a.SecretKeyID == b.SecretKeyID && a.PublicKeyID == b.PublicKeyID && a.MID == b.MID &&
		*a.SecretGen == *b.SecretGen && *a.PublicGen == *b.PublicGen &&
		sameTime(a.AuthTime, b.AuthTime) && sameTime(a.ValidUntil, b.ValidUntil)
}

// checkRefreshKey checks one of the two keys a refresh token names.
func (v *view) checkRefreshKey(r *refreshItem, id string, gen int64, want apikey.Type) {
	k := v.records[id]
	switch {
	case k == nil:
		v.report(RuleRefreshKey, r.ref, "names "+string(want)+" key "+id+", which has no record", recordRef(id))
	case k.MID != r.MID || k.Type != string(want):
		v.report(RuleRefreshKey, r.ref, "names key "+id+" as the merchant's "+string(want)+" key, but it is a "+k.Type+" key of "+k.MID, k.ref)
	case gen > k.generation():
		v.report(RuleRefreshKey, r.ref, fmt.Sprintf("names generation %d of key %s, which is at %d", gen, id, k.generation()), k.ref)
	}
}

// checkIdem checks an idempotency record's shape, its calling key and, once
// done, the key it created.
func (v *view) checkIdem(i *idemItem) {
	parts := strings.Split(strings.TrimPrefix(i.ref.PK, pfxIdem), "#")
	created, okCreated := parseTime(i.CreatedAt)
	switch {
	case len(parts) != 3 || parts[0] != i.MID || parts[1] != i.CallerKeyID || len(parts[2]) != 2*digestLen || !isHex(parts[2]):
		v.report(RuleMalformed, i.ref, "mid and caller_key_id must match the key")
		return
	case len(i.Fingerprint) != digestLen || i.Claim == "" || i.TTL == nil || i.CreatedAt == "" || !okCreated:
		v.report(RuleMalformed, i.ref, "fingerprint, claim, created_at and ttl are required")
		return
	case *i.TTL < created.Unix() || *i.TTL > created.Add(idempotencyWindow+time.Second).Unix():
		v.report(RuleMalformed, i.ref, "ttl is not 24 h after created_at")
		return
	case i.State == idemPending && (i.KeyID != "" || i.LockedUntil == nil):
		v.report(RuleMalformed, i.ref, "a pending claim has locked_until and no key_id")
		return
	case i.State == idemDone && (i.KeyID == "" || i.LockedUntil != nil):
		v.report(RuleMalformed, i.ref, "a finished claim has key_id and no locked_until")
		return
	case i.State != idemPending && i.State != idemDone:
		v.report(RuleMalformed, i.ref, "state must be pending or done")
		return
	}
	if c := v.records[i.CallerKeyID]; c == nil || c.MID != i.MID || c.Type != string(apikey.Secret) {
		v.report(RuleIdemCaller, i.ref, "the calling key "+i.CallerKeyID+" is not a secret key of "+i.MID, recordRef(i.CallerKeyID))
	}
	if i.State == idemDone {
		if k := v.records[i.KeyID]; k == nil || k.MID != i.MID {
			v.report(RuleIdemKey, i.ref, "created key "+i.KeyID+" is not a key of "+i.MID, recordRef(i.KeyID))
		}
	}
}

// checkOnboard checks that a merchant's onboarding claim names its keys.
func (v *view) checkOnboard(o *onboardClaim) {
	mid := strings.TrimPrefix(o.ref.PK, pfxMID)
	if _, ok := parseTime(o.OnboardedAt); !ok || o.OnboardedAt == "" || !apikey.ValidMID(mid) {
		v.report(RuleMalformed, o.ref, "needs a valid mid and onboarded_at")
		return
	}
	for _, want := range []struct {
		id  string
		typ apikey.Type
	}{{o.SecretKeyID, apikey.Secret}, {o.PublicKeyID, apikey.Public}} {
		if k := v.records[want.id]; k == nil || k.MID != mid || k.Type != string(want.typ) {
			v.report(RuleOnboardKey, o.ref, "names "+string(want.typ)+" key "+want.id+", which is not a "+string(want.typ)+" key of "+mid, recordRef(want.id))
		}
	}
}

// checkRate checks a secret key's count of tokens in one minute: it has a
// count of at least one and an expiry, and names a secret key.
func (v *view) checkRate(c *rateCount) {
	id, minute, ok := strings.Cut(strings.TrimPrefix(c.ref.PK, pfxRate), "#")
	if _, err := time.Parse("2006-01-02T15:04Z", minute); !ok || err != nil || c.Count < 1 || c.TTL == nil {
		v.report(RuleMalformed, c.ref, "a token count needs RATE#<key id>#<minute>, count ≥ 1 and ttl")
	}
	k := v.records[id]
	if k == nil || k.Type != string(apikey.Secret) {
		v.report(RuleRateKey, c.ref, "counts tokens of "+id+", which is no secret key", recordRef(id))
	}
}
