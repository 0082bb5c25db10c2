package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

// credentialOf is the lookup a value of k of generation gen reads as.
func credentialOf(d apikey.Digest, k apikey.Key) *auth.Credential {
	return &auth.Credential{Digest: d, KeyID: k.ID, MID: k.MID, Type: k.Type, Scopes: k.Scopes, ExpiresAt: k.ExpiresAt, Generation: k.Generation}
}

// showStored prints everything GetKey returns.
func showStored(sk apikey.StoredKey) string {
	prev := "-"
	if sk.PreviousDigest != nil {
		prev = fmt.Sprintf("%x", sk.PreviousDigest[:4])
	}
	return fmt.Sprintf("%s digest=%x previous=%s sealed{%s}", showKey(sk.Key), sk.Digest[:4], prev, showSealed(sk.Sealed))
}

// snapshot prints what the store holds of a key and of the lookups of
// the digests given, to show that a refused write changed nothing.
func (f *fixture) snapshot(id string, digests ...apikey.Digest) string {
	f.Helper()
	out := "no record"
	if sk, err := f.st.GetKey(f.ctx, id); err == nil {
		out = showStored(sk)
	} else if !errors.Is(err, apikey.ErrNotFound) {
		f.Fatalf("get key: %v", err)
	}
	for _, d := range digests {
		out += "\nlookup " + showCredential(f.lookup(d))
	}
	return out
}

// list reads one page of the fixture merchant's keys and returns their ids.
func (f *fixture) list(q apikey.KeyQuery) ([]string, bool) {
	f.Helper()
	keys, more, err := f.st.ListKeys(f.ctx, q)
	if err != nil {
		f.Fatalf("list keys: %v", err)
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids, more
}

func ids(ks ...*liveKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Key.ID
	}
	return out
}

var createCases = append([]contractCase{
	{"stores the record, its lookup and its sealed value", func(f *fixture) {
		nk := f.newKey(apikey.Public)
		nk.Key.ExpiresAt = ptr(f.now.Add(48 * time.Hour))
		nk.SealedExpiresAt = ptr(f.now.Add(24 * time.Hour))
		f.create(nk)
		sk := f.get(nk.Key.ID)
		f.check("record", showKey(sk.Key), showKey(nk.Key))
		if !sk.Digest.Equal(nk.Digest) || sk.PreviousDigest != nil {
			f.Fatalf("digest %x previous %v", sk.Digest[:4], sk.PreviousDigest)
		}
		f.check("sealed value", showSealed(sk.Sealed), showSealed(&nk.Sealed))
		f.check("lookup", showCredential(f.lookup(nk.Digest)), showCredential(credentialOf(nk.Digest, nk.Key)))
	}},
	{"keeps times to the second, in UTC", func(f *fixture) {
		zone := time.FixedZone("UTC+2", 2*60*60)
		nk := f.newKey(apikey.Secret)
		nk.Key.CreatedAt = f.now.Add(999 * time.Millisecond).In(zone)
		nk.Key.ExpiresAt = ptr(f.now.Add(time.Hour + 500*time.Millisecond).In(zone))
		f.create(nk)
		sk := f.get(nk.Key.ID)
		if !sk.Key.CreatedAt.Equal(f.now) || sk.Key.CreatedAt.Location() != time.UTC {
			f.Fatalf("created_at %s, want %s", sk.Key.CreatedAt, f.now)
		}
		if sk.Key.ExpiresAt == nil || !sk.Key.ExpiresAt.Equal(f.now.Add(time.Hour)) || sk.Key.ExpiresAt.Location() != time.UTC {
			f.Fatalf("expires_at %v, want %s", sk.Key.ExpiresAt, f.now.Add(time.Hour))
		}
		if c := f.lookup(nk.Digest); c == nil || c.ExpiresAt == nil || !c.ExpiresAt.Equal(f.now.Add(time.Hour)) {
			f.Fatalf("lookup %s", showCredential(c))
		}
	}},
	{"starts active and unused, whatever the key given says", func(f *fixture) {
		nk := f.newKey(apikey.Secret)
		want := nk.Key
		later := f.now.Add(time.Hour)
		nk.Key.Revoked, nk.Key.RevokedAt, nk.Key.LastUsed = true, &later, &later
		nk.Key.RolledAt, nk.Key.PreviousValidUntil = &later, &later
		f.create(nk)
		f.check("record", showKey(f.get(nk.Key.ID).Key), showKey(want))
		if got, _ := f.list(apikey.KeyQuery{MID: f.mid, Limit: 10}); !slices.Equal(got, []string{nk.Key.ID}) {
			f.Fatalf("listed %v", got)
		}
	}},
	{"reads no scopes as an empty list", func(f *fixture) {
		nk := f.newKey(apikey.Public)
		nk.Key.Scopes = nil
		f.create(nk)
		keys, _, err := f.st.ListKeys(f.ctx, apikey.KeyQuery{MID: f.mid, Limit: 10})
		if err != nil || len(keys) != 1 {
			f.Fatalf("list: %d keys, %v", len(keys), err)
		}
		c := f.lookup(nk.Digest)
		for what, s := range map[string][]string{"record": f.get(nk.Key.ID).Key.Scopes, "listed": keys[0].Scopes, "lookup": c.Scopes} {
			if s == nil || len(s) != 0 {
				f.Fatalf("%s scopes %#v, want an empty list", what, s)
			}
		}
	}},
	// Generation 0 is no generation a service writes; the table's adapter
	// reads it, like a record written before generations, as the first.
	{"reads generation 0 as the first", func(f *fixture) {
		nk := f.newKey(apikey.Secret)
		nk.Key.Generation = 0
		f.create(nk)
		states, err := f.st.KeyStates(f.ctx, nk.Key.ID)
		if err != nil {
			f.Fatal(err)
		}
		got := []int64{f.get(nk.Key.ID).Key.Generation, f.lookup(nk.Digest).Generation, states[nk.Key.ID].Generation}
		if !slices.Equal(got, []int64{1, 1, 1}) {
			f.Fatalf("generation read as %v by GetKey, LookupCredentials and KeyStates, want 1", got)
		}
	}},
	{"of concurrent creates of one digest, one commits", func(f *fixture) {
		const n = 6
		digest := f.newKey(apikey.Secret).Digest
		errs := make([]error, n)
		keys := make([]apikey.NewKey, n)
		var wg sync.WaitGroup
		for i := range n {
			keys[i] = f.newKey(apikey.Secret)
			keys[i].Digest = digest
			wg.Go(func() { errs[i] = f.st.CreateKey(f.ctx, keys[i]) })
		}
		wg.Wait()
		var created []string
		for i, err := range errs {
			if err == nil {
				created = append(created, keys[i].Key.ID)
			}
		}
		// Only the count is the contract: on AWS a loser may be cancelled by
		// a transaction conflict rather than fail its condition.
		if len(created) != 1 {
			f.Fatalf("%d creates committed (%v)", len(created), errs)
		}
		listed, _ := f.list(apikey.KeyQuery{MID: f.mid, Limit: 10, IncludeRevoked: true})
		if !slices.Equal(listed, created) || f.lookup(digest).KeyID != created[0] {
			f.Fatalf("listed %v, lookup %s; committed %v", listed, showCredential(f.lookup(digest)), created)
		}
	}},
}, createRefusals()...)

// createRefusals: a create that fails writes nothing and leaves the key it
// collided with as it was.
func createRefusals() []contractCase {
	rows := []struct {
		name   string
		change func(first apikey.NewKey, nk *apikey.NewKey)
		want   error
	}{
		{"a taken digest: ErrDuplicateDigest", func(first apikey.NewKey, nk *apikey.NewKey) { nk.Digest = first.Digest }, apikey.ErrDuplicateDigest},
		{"a taken id: an error", func(first apikey.NewKey, nk *apikey.NewKey) { nk.Key.ID = first.Key.ID }, errOther},
		{"a taken id and digest: ErrDuplicateDigest", func(first apikey.NewKey, nk *apikey.NewKey) { *nk = first }, apikey.ErrDuplicateDigest},
		{"a sealed value with a nil part: an error", func(_ apikey.NewKey, nk *apikey.NewKey) { nk.Sealed.Nonce = nil }, errOther},
	}
	cases := make([]contractCase, len(rows))
	for i, row := range rows {
		cases[i] = contractCase{"refuses " + row.name, func(f *fixture) {
			first := f.newKey(apikey.Secret)
			f.create(first)
			nk := f.newKey(apikey.Secret)
			row.change(first, &nk)
			before := f.snapshot(first.Key.ID, first.Digest, nk.Digest)
			f.checkErr("create", f.st.CreateKey(f.ctx, nk), row.want)
			f.check("after the refused create", f.snapshot(first.Key.ID, first.Digest, nk.Digest), before)
			if nk.Key.ID != first.Key.ID {
				if _, err := f.st.GetKey(f.ctx, nk.Key.ID); !errors.Is(err, apikey.ErrNotFound) {
					f.Fatalf("the refused key was stored: %v", err)
				}
			}
			if got, _ := f.list(apikey.KeyQuery{MID: f.mid, Limit: 10, IncludeRevoked: true}); !slices.Equal(got, []string{first.Key.ID}) {
				f.Fatalf("listed %v", got)
			}
		}}
	}
	return cases
}

var getCases = []contractCase{
	{"an unknown id is ErrNotFound", func(f *fixture) {
		if _, err := f.st.GetKey(f.ctx, apikey.NewID(f.now)); !errors.Is(err, apikey.ErrNotFound) {
			f.Fatalf("err = %v, want ErrNotFound", err)
		}
	}},
	{"reads another merchant's key too (the service hides it)", func(f *fixture) {
		nk := f.newKey(apikey.Public)
		nk.Key.MID = newMID()
		f.create(nk)
		if got := f.get(nk.Key.ID); got.Key.MID != nk.Key.MID {
			f.Fatalf("read %s", showKey(got.Key))
		}
	}},
}

var listCases = append([]contractCase{
	{"lists the merchant's keys only, newest first", func(f *fixture) {
		a, b := f.key(apikey.Secret), f.key(apikey.Public)
		other := f.newKey(apikey.Public)
		other.Key.MID = newMID()
		f.create(other)
		c := f.key(apikey.Tokenization)
		got, more := f.list(apikey.KeyQuery{MID: f.mid, Limit: 10})
		if want := ids(c, b, a); !slices.Equal(got, want) || more {
			f.Fatalf("listed %v (more %t), want %v", got, more, want)
		}
	}},
	{"reads past runs of revoked keys to fill a page", func(f *fixture) {
		ks := make([]*liveKey, 9)
		for i := range ks {
			ks[i] = f.key(apikey.Public)
			if i >= 2 && i <= 7 {
				f.revoke(ks[i])
			}
		}
		var got []string
		q := apikey.KeyQuery{MID: f.mid, Limit: 2}
		for page := 0; ; page++ {
			ids, more := f.list(q)
			got = append(got, ids...)
			if !more || page > 5 {
				break
			}
			q.After = ids[len(ids)-1]
		}
		if want := ids(ks[8], ks[1], ks[0]); !slices.Equal(got, want) {
			f.Fatalf("listed %v, want %v", got, want)
		}
	}},
	{"lists a key as GetKey reads it", func(f *fixture) {
		p := f.pair()
		f.exchanged(p)
		f.roll(p.sec, time.Hour)
		f.revoke(p.pub)
		keys, _, err := f.st.ListKeys(f.ctx, apikey.KeyQuery{MID: f.mid, Limit: 10, IncludeRevoked: true})
		if err != nil || len(keys) != 2 {
			f.Fatalf("listed %d keys, %v", len(keys), err)
		}
		for _, k := range keys {
			f.check("listed "+k.ID, showKey(k), showKey(f.get(k.ID).Key))
		}
		if keys[1].LastUsed == nil || keys[1].RolledAt == nil || !keys[0].Revoked {
			f.Fatalf("listed %s\n%s", showKey(keys[0]), showKey(keys[1]))
		}
	}},
}, listPages()...)

// listPages: one merchant's keys k0 (oldest) to k4, k1 and k3 revoked.
func listPages() []contractCase {
	rows := []struct {
		name    string
		limit   int
		after   int // index of the key to start after; -1: the first page
		revoked bool
		want    []int
		more    bool
	}{
		{"without revoked keys", 10, -1, false, []int{4, 2, 0}, false},
		{"with revoked keys", 10, -1, true, []int{4, 3, 2, 1, 0}, false},
		{"a page shorter than the keys: more", 2, -1, false, []int{4, 2}, true},
		{"a page as long as the keys: no more", 3, -1, false, []int{4, 2, 0}, false},
		{"after a key", 2, 4, false, []int{2, 0}, false},
		{"after a revoked key, not listed itself", 1, 3, false, []int{2}, true},
		{"after a key, with revoked keys", 2, 2, true, []int{1, 0}, false},
		{"after the oldest key: none", 5, 0, true, nil, false},
	}
	cases := make([]contractCase, 0, len(rows)+2)
	setup := func(f *fixture) []*liveKey {
		ks := make([]*liveKey, 5)
		for i := range ks {
			ks[i] = f.key(apikey.Secret)
		}
		f.revoke(ks[1])
		f.revoke(ks[3])
		return ks
	}
	for _, row := range rows {
		cases = append(cases, contractCase{"pages " + row.name, func(f *fixture) {
			ks := setup(f)
			q := apikey.KeyQuery{MID: f.mid, Limit: row.limit, IncludeRevoked: row.revoked}
			if row.after >= 0 {
				q.After = ks[row.after].Key.ID
			}
			want := []string{}
			for _, i := range row.want {
				want = append(want, ks[i].Key.ID)
			}
			got, more := f.list(q)
			if !slices.Equal(got, want) || more != row.more {
				f.Fatalf("listed %v (more %t), want %v (more %t)", got, more, want, row.more)
			}
		}})
	}
	return append(cases,
		contractCase{"pages after an id that is no key, by its place", func(f *fixture) {
			ks := setup(f)
			got, more := f.list(apikey.KeyQuery{MID: f.mid, Limit: 10, After: apikey.NewID(f.now.Add(time.Hour))})
			if want := ids(ks[4], ks[2], ks[0]); !slices.Equal(got, want) || more {
				f.Fatalf("listed %v (more %t), want %v", got, more, want)
			}
		}},
		contractCase{"lists nothing for a merchant without keys", func(f *fixture) {
			setup(f)
			if got, more := f.list(apikey.KeyQuery{MID: newMID(), Limit: 10, IncludeRevoked: true}); len(got) != 0 || more {
				f.Fatalf("listed %v (more %t)", got, more)
			}
		}},
	)
}

var revokeCases = append([]contractCase{
	{"marks the record revoked and deletes the lookups of both values", func(f *fixture) {
		k := f.key(apikey.Secret)
		old := k.Digest
		r := f.roll(k, time.Hour)
		at := f.now.Add(90*time.Second + 700*time.Millisecond)
		err := f.st.RevokeKey(f.ctx, apikey.Revocation{ID: k.Key.ID, Digest: k.Digest, PreviousDigest: &old, At: at})
		f.checkErr("revoke", err, nil)
		want := k.Key
		want.Revoked, want.RevokedAt = true, ptr(at.Truncate(time.Second))
		sk := f.get(k.Key.ID)
		f.check("record", showKey(sk.Key), showKey(want))
		// The record keeps its digests and its sealed value (for audit).
		if !sk.Digest.Equal(k.Digest) || sk.PreviousDigest == nil || !sk.PreviousDigest.Equal(old) {
			f.Fatalf("digests after revocation: %s", showStored(sk))
		}
		f.check("sealed value", showSealed(sk.Sealed), showSealed(&r.Sealed))
		if cur, prev, _ := f.st.LookupCredentials(f.ctx, k.Digest, old); cur != nil || prev != nil {
			f.Fatalf("lookups survived: %s, %s", showCredential(cur), showCredential(prev))
		}
		states, _ := f.st.KeyStates(f.ctx, k.Key.ID)
		if !states[k.Key.ID].Revoked {
			f.Fatalf("state %s", showState(states[k.Key.ID]))
		}
	}},
}, revokeRefusals()...)

// revokeRefusals: a refused revocation changes nothing.
func revokeRefusals() []contractCase {
	rows := []struct {
		name    string
		arrange func(f *fixture, k *liveKey, r *apikey.Revocation)
		want    error
	}{
		{"a value rolled since it was read: ErrConflict", func(f *fixture, k *liveKey, _ *apikey.Revocation) { f.roll(k, 0) }, apikey.ErrConflict},
		{"a revoked key: ErrConflict", func(f *fixture, k *liveKey, _ *apikey.Revocation) { f.revoke(k) }, apikey.ErrConflict},
		{"an unknown key: ErrConflict", func(f *fixture, _ *liveKey, r *apikey.Revocation) { r.ID = apikey.NewID(f.now) }, apikey.ErrConflict},
		{"one lookup named twice: an error", func(_ *fixture, _ *liveKey, r *apikey.Revocation) { r.PreviousDigest = &r.Digest }, errOther},
	}
	cases := make([]contractCase, len(rows))
	for i, row := range rows {
		cases[i] = contractCase{"refuses " + row.name, func(f *fixture) {
			k := f.key(apikey.Secret)
			r := apikey.Revocation{ID: k.Key.ID, Digest: k.Digest, At: f.now}
			row.arrange(f, k, &r)
			before := f.snapshot(k.Key.ID, r.Digest, k.Digest)
			f.checkErr("revoke", f.st.RevokeKey(f.ctx, r), row.want)
			f.check("after the refused revocation", f.snapshot(k.Key.ID, r.Digest, k.Digest), before)
		}}
	}
	return cases
}

var rollCases = append([]contractCase{
	{"without grace: the old value's lookup goes", func(f *fixture) {
		k := f.key(apikey.Public)
		old := k.Digest
		r := f.roll(k, 0)
		sk := f.get(k.Key.ID)
		f.check("record", showKey(sk.Key), showKey(k.Key))
		if sk.Key.Generation != 2 || !sk.Key.RolledAt.Equal(f.now) || !sk.Key.PreviousValidUntil.Equal(f.now) || sk.Key.LastFour != "0002" {
			f.Fatalf("rolled record %s", showKey(sk.Key))
		}
		if !sk.Digest.Equal(r.NewDigest) || sk.PreviousDigest != nil {
			f.Fatalf("digests %s", showStored(sk))
		}
		f.check("sealed value", showSealed(sk.Sealed), showSealed(&r.Sealed))
		f.check("new lookup", showCredential(f.lookup(r.NewDigest)), showCredential(credentialOf(r.NewDigest, k.Key)))
		f.check("old lookup", showCredential(f.lookup(old)), "<nil>")
	}},
	{"with grace: the old value's lookup stays, ending at valid_until", func(f *fixture) {
		k := f.key(apikey.Public)
		first := k.Key
		old := k.Digest
		r := f.roll(k, time.Hour)
		sk := f.get(k.Key.ID)
		f.check("record", showKey(sk.Key), showKey(k.Key))
		if sk.PreviousDigest == nil || !sk.PreviousDigest.Equal(old) {
			f.Fatalf("previous digest %v, want the old value's", sk.PreviousDigest)
		}
		want := credentialOf(old, first)
		want.ValidUntil = ptr(f.now.Add(time.Hour))
		f.check("old lookup", showCredential(f.lookup(old)), showCredential(want))
		f.check("new lookup", showCredential(f.lookup(r.NewDigest)), showCredential(credentialOf(r.NewDigest, k.Key)))
	}},
	{"during a grace: the earlier grace ends", func(f *fixture) {
		k := f.key(apikey.Secret)
		first := k.Digest
		f.roll(k, time.Hour)
		second := k.Digest
		r := f.roll(k, 2*time.Hour)
		if r.Ended == nil || !r.Ended.Equal(first) {
			f.Fatal("the second roll does not end the first grace")
		}
		sk := f.get(k.Key.ID)
		if sk.Key.Generation != 3 || sk.PreviousDigest == nil || !sk.PreviousDigest.Equal(second) {
			f.Fatalf("record %s", showStored(sk))
		}
		if c := f.lookup(first); c != nil {
			f.Fatalf("the first value's lookup survived: %s", showCredential(c))
		}
		if c := f.lookup(second); c == nil || c.Generation != 2 || c.ValidUntil == nil || !c.ValidUntil.Equal(f.now.Add(2*time.Hour)) {
			f.Fatalf("second value's lookup %s", showCredential(c))
		}
	}},
	{"without grace during a grace: no old value stays", func(f *fixture) {
		k := f.key(apikey.Secret)
		first := k.Digest
		f.roll(k, time.Hour)
		second := k.Digest
		f.roll(k, 0)
		if sk := f.get(k.Key.ID); sk.PreviousDigest != nil || sk.Key.Generation != 3 {
			f.Fatalf("record %s", showStored(sk))
		}
		if a, b, _ := f.st.LookupCredentials(f.ctx, first, second); a != nil || b != nil {
			f.Fatalf("old lookups survived: %s, %s", showCredential(a), showCredential(b))
		}
	}},
	{"changes only the value's fields of the record", func(f *fixture) {
		k := f.key(apikey.Secret)
		r := f.rollover(k, 0)
		r.Key.Name, r.Key.Scopes, r.Key.ExpiresAt, r.Key.CreatedAt = "renamed", []string{"other:scope"}, ptr(f.now.Add(time.Hour)), f.now.Add(time.Hour)
		f.checkErr("roll", f.st.RollKey(f.ctx, r), nil)
		k.apply(r)
		f.check("record", showKey(f.get(k.Key.ID).Key), showKey(k.Key))
	}},
}, rollRefusals()...)

// rollRefusals: a refused roll changes nothing.
func rollRefusals() []contractCase {
	rows := []struct {
		name    string
		arrange func(f *fixture, k *liveKey, r *apikey.Rollover)
		want    error
	}{
		{"a value rolled since it was read: ErrConflict", func(f *fixture, k *liveKey, _ *apikey.Rollover) { f.roll(k, 0) }, apikey.ErrConflict},
		{"a taken new digest: ErrDuplicateDigest", func(f *fixture, _ *liveKey, r *apikey.Rollover) {
			r.NewDigest = f.key(apikey.Secret).Digest
		}, apikey.ErrDuplicateDigest},
		{"a taken new digest of a value rolled since: ErrDuplicateDigest", func(f *fixture, k *liveKey, r *apikey.Rollover) {
			f.roll(k, 0)
			r.NewDigest = f.key(apikey.Secret).Digest
		}, apikey.ErrDuplicateDigest},
		{"a revoked key: ErrConflict", func(f *fixture, k *liveKey, _ *apikey.Rollover) { f.revoke(k) }, apikey.ErrConflict},
		{"an unknown key: ErrConflict", func(f *fixture, _ *liveKey, r *apikey.Rollover) { r.Key.ID = apikey.NewID(f.now) }, apikey.ErrConflict},
		{"keeping an old value whose lookup is gone: ErrConflict", func(f *fixture, k *liveKey, r *apikey.Rollover) {
			// A revocation deletes the lookups it names, whoever owns them.
			o := f.key(apikey.Secret)
			if err := f.st.RevokeKey(f.ctx, apikey.Revocation{ID: o.Key.ID, Digest: o.Digest, PreviousDigest: &k.Digest, At: f.now}); err != nil {
				f.Fatal(err)
			}
			*r = f.rollover(k, time.Hour)
		}, apikey.ErrConflict},
		{"a sealed value with a nil part: an error", func(_ *fixture, _ *liveKey, r *apikey.Rollover) { r.Sealed.Ciphertext = nil }, errOther},
		{"ending the value it replaces: an error", func(_ *fixture, _ *liveKey, r *apikey.Rollover) { r.Ended = &r.OldDigest }, errOther},
	}
	cases := make([]contractCase, len(rows))
	for i, row := range rows {
		cases[i] = contractCase{"refuses " + row.name, func(f *fixture) {
			k := f.key(apikey.Secret)
			r := f.rollover(k, 0)
			row.arrange(f, k, &r)
			before := f.snapshot(k.Key.ID, r.OldDigest, r.NewDigest, k.Digest)
			f.checkErr("roll", f.st.RollKey(f.ctx, r), row.want)
			f.check("after the refused roll", f.snapshot(k.Key.ID, r.OldDigest, r.NewDigest, k.Digest), before)
		}}
	}
	return cases
}
