package storetest

import (
	"slices"
	"sync"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

var lookupCases = []contractCase{
	{"reads two digests at once; an unknown one is nil", func(f *fixture) {
		p := f.pair()
		pub, sec, err := f.st.LookupCredentials(f.ctx, p.pub.Digest, p.sec.Digest)
		f.checkErr("lookup", err, nil)
		f.check("public", showCredential(pub), showCredential(credentialOf(p.pub.Digest, p.pub.Key)))
		f.check("secret", showCredential(sec), showCredential(credentialOf(p.sec.Digest, p.sec.Key)))
		unknown := apikey.DigestOf("no such value")
		a, b, err := f.st.LookupCredentials(f.ctx, unknown, p.sec.Digest)
		f.checkErr("lookup", err, nil)
		f.check("unknown", showCredential(a), "<nil>")
		f.check("secret", showCredential(b), showCredential(credentialOf(p.sec.Digest, p.sec.Key)))
	}},
	{"reads one digest given twice", func(f *fixture) {
		k := f.key(apikey.Secret)
		a, b, err := f.st.LookupCredentials(f.ctx, k.Digest, k.Digest)
		f.checkErr("lookup", err, nil)
		want := showCredential(credentialOf(k.Digest, k.Key))
		f.check("first", showCredential(a), want)
		f.check("second", showCredential(b), want)
	}},
}

var keyStateCases = []contractCase{
	{"reads each key's standing; unknown ids are absent", func(f *fixture) {
		p := f.pair()
		sec := f.newKey(apikey.Secret)
		sec.Key.ExpiresAt = ptr(f.now.Add(72 * time.Hour))
		rolled := f.create(sec)
		f.roll(rolled, time.Hour)
		f.revoke(p.pub)
		unknown := apikey.NewID(f.now)
		states, err := f.st.KeyStates(f.ctx, rolled.Key.ID, p.pub.Key.ID, p.sec.Key.ID, p.pub.Key.ID, unknown)
		f.checkErr("key states", err, nil)
		if len(states) != 3 {
			f.Fatalf("%d states, want 3 (unknown ids absent): %v", len(states), states)
		}
		until := f.now.Add(time.Hour)
		want := map[string]auth.KeyState{
			rolled.Key.ID: {MID: f.mid, ExpiresAt: sec.Key.ExpiresAt, Generation: 2, RolledAt: &f.now, PreviousValidUntil: &until},
			p.pub.Key.ID:  {MID: f.mid, Revoked: true, Generation: 1},
			p.sec.Key.ID:  {MID: f.mid, Generation: 1},
		}
		for id, w := range want {
			f.check("state of "+id, showState(states[id]), showState(w))
		}
	}},
	{"refuses a read of no keys", func(f *fixture) {
		_, err := f.st.KeyStates(f.ctx)
		f.checkErr("key states of no keys", err, errOther)
	}},
}

var exchangeCases = append([]contractCase{
	{"stores the token and sets last_used on both keys, to the second", func(f *fixture) {
		p := f.pair()
		r := f.token(p)
		r.ValidUntil = ptr(f.now.Add(time.Hour + 300*time.Millisecond))
		r.IssuedAt = f.now.Add(800 * time.Millisecond)
		r.AuthTime = r.IssuedAt
		r.ExpiresAt = r.AuthTime.Add(auth.RefreshTTL)
		r.RotatedAt, r.RevokedAt = &r.IssuedAt, &r.IssuedAt // not for a new token to say
		f.checkErr("record exchange", f.st.RecordExchange(f.ctx, r, unlimited), nil)
		want := r
		want.AuthTime, want.IssuedAt, want.ExpiresAt = f.now, f.now, f.now.Add(auth.RefreshTTL)
		want.ValidUntil, want.RotatedAt, want.RevokedAt = ptr(f.now.Add(time.Hour)), nil, nil
		f.check("stored token", showRefresh(f.refresh(r.Digest)), showRefresh(&want))
		for _, k := range []*liveKey{p.sec, p.pub} {
			used := k.Key
			used.LastUsed = &f.now
			f.check("record", showKey(f.get(k.Key.ID).Key), showKey(used))
		}
	}},
	{"refuses a digest already stored: an error, the first token stays", func(f *fixture) {
		p := f.pair()
		first := f.exchanged(p)
		again := f.token(p)
		again.Digest, again.FamilyID = first.Digest, "fam_other"
		f.checkErr("record exchange", f.st.RecordExchange(f.ctx, again, unlimited), errOther)
		f.check("first token", showRefresh(f.refresh(first.Digest)), showRefresh(&first))
	}},
	{"refuses one key as secret and public: an error", func(f *fixture) {
		p := f.pair()
		r := f.token(p)
		r.PublicKeyID = r.SecretKeyID
		f.checkErr("record exchange", f.st.RecordExchange(f.ctx, r, unlimited), errOther)
		f.check("token", showRefresh(f.refresh(r.Digest)), "<nil>")
	}},
}, generationCases(func(f *fixture, r auth.RefreshRecord, admitted bool) {
	err := f.st.RecordExchange(f.ctx, r, unlimited)
	stored := f.refresh(r.Digest)
	if admitted {
		f.checkErr("record exchange", err, nil)
		if stored == nil {
			f.Fatal("the token was not stored")
		}
		return
	}
	f.checkErr("record exchange", err, apikey.ErrNotFound)
	if stored != nil {
		f.Fatalf("a refused exchange stored %s", showRefresh(stored))
	}
})...)

// genCase is a key's standing when a token of given generations is
// written: exchanges and rotations are conditioned alike on both keys
// existing, being unrevoked, and still admitting the generation presented
// (the current one, or the one before it during the latest roll's grace).
type genCase struct {
	name     string
	arrange  func(f *fixture, p pair, r *auth.RefreshRecord)
	admitted bool
}

var genCases = []genCase{
	{"the current generations", func(*fixture, pair, *auth.RefreshRecord) {}, true},
	{"the value before, during the grace", func(f *fixture, p pair, _ *auth.RefreshRecord) { f.roll(p.sec, time.Hour) }, true},
	{"the value before, when the grace has ended", func(f *fixture, p pair, r *auth.RefreshRecord) {
		f.roll(p.sec, time.Hour)
		r.IssuedAt = f.now.Add(time.Hour)
	}, false},
	{"the value before, after a roll without grace", func(f *fixture, p pair, _ *auth.RefreshRecord) { f.roll(p.pub, 0) }, false},
	// A token issued before a roll without grace, written after it: the
	// grace is empty, whatever the token's time.
	{"the value before, issued before a roll without grace", func(f *fixture, p pair, r *auth.RefreshRecord) {
		f.roll(p.pub, 0)
		r.IssuedAt = f.now.Add(-time.Second)
	}, false},
	{"the value before the previous one", func(f *fixture, p pair, _ *auth.RefreshRecord) {
		f.roll(p.sec, time.Hour)
		f.roll(p.sec, time.Hour)
	}, false},
	{"the new value after a roll", func(f *fixture, p pair, r *auth.RefreshRecord) {
		f.roll(p.sec, time.Hour)
		r.SecretGen = 2
	}, true},
	{"a generation the key has not reached", func(_ *fixture, _ pair, r *auth.RefreshRecord) { r.PublicGen = 2 }, false},
	{"a revoked key", func(f *fixture, p pair, _ *auth.RefreshRecord) { f.revoke(p.pub) }, false},
	{"an unknown key", func(f *fixture, _ pair, r *auth.RefreshRecord) { r.SecretKeyID = apikey.NewID(f.now) }, false},
	// The write reads neither the merchant nor the expiry: the lookup
	// before it, and KeyStates, are what check those.
	{"an expired key", func(f *fixture, _ pair, r *auth.RefreshRecord) {
		nk := f.newKey(apikey.Secret)
		nk.Key.ExpiresAt = ptr(f.now.Add(-time.Hour))
		r.SecretKeyID = f.create(nk).Key.ID
	}, true},
	{"another merchant", func(_ *fixture, _ pair, r *auth.RefreshRecord) { r.MID = newMID() }, true},
	// A record of generation 0 reads as the first (see CreateKey), but the
	// write compares the number stored.
	{"the first generation of a record of generation 0", func(f *fixture, _ pair, r *auth.RefreshRecord) {
		nk := f.newKey(apikey.Secret)
		nk.Key.Generation = 0
		r.SecretKeyID, r.SecretGen = f.create(nk).Key.ID, apikey.FirstGeneration
	}, false},
}

// generationCases runs write (which checks the outcome) on a token of a
// fresh pair after each genCase's arrangement.
func generationCases(write func(f *fixture, r auth.RefreshRecord, admitted bool)) []contractCase {
	cases := make([]contractCase, len(genCases))
	for i, g := range genCases {
		verdict := "refuses "
		if g.admitted {
			verdict = "admits "
		}
		cases[i] = contractCase{verdict + g.name, func(f *fixture) {
			p := f.pair()
			r := f.token(p)
			g.arrange(f, p, &r)
			write(f, r, g.admitted)
		}}
	}
	return cases
}

var rotateCases = append(append([]contractCase{
	{"rotates: the old token stays as rotated, its successor is stored, both keys are touched", func(f *fixture) {
		p := f.pair()
		old := f.exchanged(p)
		next := f.successor(old)
		next.IssuedAt = f.now.Add(time.Minute + 400*time.Millisecond)
		f.checkErr("rotate", f.st.RotateRefresh(f.ctx, old.Digest, next, unlimited), nil)
		at := f.now.Add(time.Minute)
		wantOld := old
		wantOld.RotatedAt = &at
		f.check("old token", showRefresh(f.refresh(old.Digest)), showRefresh(&wantOld))
		wantNext := next
		wantNext.IssuedAt = at
		f.check("successor", showRefresh(f.refresh(next.Digest)), showRefresh(&wantNext))
		for _, k := range []*liveKey{p.sec, p.pub} {
			if got := f.get(k.Key.ID).Key.LastUsed; got == nil || !got.Equal(at) {
				f.Fatalf("last_used of %s: %s, want %s", k.Key.ID, showTimep(got), showTime(at))
			}
		}
	}},
	{"of concurrent rotations of one token, one commits", func(f *fixture) {
		const n = 6
		old := f.exchanged(f.pair())
		nexts := make([]auth.RefreshRecord, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			nexts[i] = f.successor(old)
			wg.Go(func() { errs[i] = f.st.RotateRefresh(f.ctx, old.Digest, nexts[i], unlimited) })
		}
		wg.Wait()
		committed := 0
		for i, err := range errs {
			stored := f.refresh(nexts[i].Digest) != nil
			if stored != (err == nil) {
				f.Fatalf("rotation %d: err %v, successor stored %t", i, err, stored)
			}
			if err == nil {
				committed++
			}
		}
		// Only the count is the contract: on AWS a loser may be cancelled by
		// a transaction conflict rather than fail its condition.
		if committed != 1 {
			f.Fatalf("%d rotations committed: %v", committed, errs)
		}
	}},
}, rotateRefusals()...), generationCases(func(f *fixture, next auth.RefreshRecord, admitted bool) {
	// The token rotated is another pair's: the condition is on next's keys.
	old := f.exchanged(f.pair())
	next.FamilyID = old.FamilyID
	err := f.st.RotateRefresh(f.ctx, old.Digest, next, unlimited)
	stored, rotated := f.refresh(next.Digest) != nil, f.refresh(old.Digest).RotatedAt != nil
	if admitted {
		f.checkErr("rotate", err, nil)
		if !stored || !rotated {
			f.Fatalf("successor stored %t, old token rotated %t", stored, rotated)
		}
		return
	}
	f.checkErr("rotate", err, auth.ErrInvalidGrant)
	if stored || rotated {
		f.Fatalf("a refused rotation stored its successor (%t) or rotated the old token (%t)", stored, rotated)
	}
})...)

// rotateRefusals: a refused rotation changes neither token.
func rotateRefusals() []contractCase {
	rows := []struct {
		name    string
		arrange func(f *fixture, old, next *auth.RefreshRecord)
		want    error
	}{
		{"an old token already rotated: ErrRefreshConflict", func(f *fixture, old, _ *auth.RefreshRecord) {
			f.checkErr("first rotation", f.st.RotateRefresh(f.ctx, old.Digest, f.successor(*old), unlimited), nil)
		}, auth.ErrRefreshConflict},
		{"an old token revoked: ErrRefreshConflict", func(f *fixture, old, _ *auth.RefreshRecord) {
			elsewhere := *old
			elsewhere.FamilyID = "fam_elsewhere_" + old.FamilyID // revoke the token, bar no family of next's
			f.checkErr("revoke", f.st.RevokeFamily(f.ctx, elsewhere, f.now, f.now.Add(auth.RefreshTTL), nil), nil)
		}, auth.ErrRefreshConflict},
		{"an unknown old token: ErrRefreshConflict", func(_ *fixture, old, _ *auth.RefreshRecord) { old.Digest = randomDigest() }, auth.ErrRefreshConflict},
		{"a barred family: ErrInvalidGrant", func(f *fixture, old, _ *auth.RefreshRecord) {
			f.barFamily(old.FamilyID)
		}, auth.ErrInvalidGrant},
		{"a barred family and an old token already rotated: ErrInvalidGrant", func(f *fixture, old, _ *auth.RefreshRecord) {
			f.checkErr("first rotation", f.st.RotateRefresh(f.ctx, old.Digest, f.successor(*old), unlimited), nil)
			f.barFamily(old.FamilyID)
		}, auth.ErrInvalidGrant},
		{"a key gone and an unknown old token: ErrInvalidGrant", func(f *fixture, old, next *auth.RefreshRecord) {
			old.Digest = randomDigest()
			next.PublicKeyID = apikey.NewID(f.now)
		}, auth.ErrInvalidGrant},
		{"a successor already stored: an error", func(f *fixture, old, next *auth.RefreshRecord) {
			other := f.token(pair{f.key(apikey.Secret), f.key(apikey.Public)})
			other.FamilyID = old.FamilyID
			f.checkErr("exchange", f.st.RecordExchange(f.ctx, other, unlimited), nil)
			next.Digest = other.Digest
		}, errOther},
		{"one key as secret and public: an error", func(_ *fixture, _, next *auth.RefreshRecord) { next.PublicKeyID = next.SecretKeyID }, errOther},
	}
	cases := make([]contractCase, len(rows))
	for i, row := range rows {
		cases[i] = contractCase{"refuses " + row.name, func(f *fixture) {
			old := f.exchanged(f.pair())
			next := f.successor(old)
			row.arrange(f, &old, &next)
			before := []string{showRefresh(f.refresh(old.Digest)), showRefresh(f.refresh(next.Digest))}
			f.checkErr("rotate", f.st.RotateRefresh(f.ctx, old.Digest, next, unlimited), row.want)
			after := []string{showRefresh(f.refresh(old.Digest)), showRefresh(f.refresh(next.Digest))}
			if !slices.Equal(after, before) {
				f.Fatalf("a refused rotation changed the tokens:\n got  %v\n want %v", after, before)
			}
		}}
	}
	return cases
}

// barFamily revokes a family through a token of it that was never stored.
func (f *fixture) barFamily(family string) {
	f.Helper()
	err := f.st.RevokeFamily(f.ctx, auth.RefreshRecord{Digest: randomDigest(), FamilyID: family}, f.now, f.now.Add(auth.RefreshTTL), nil)
	f.checkErr("revoke family", err, nil)
}

var lookupRefreshCases = []contractCase{
	{"an unknown digest is nil", func(f *fixture) {
		f.check("unknown token", showRefresh(f.refresh(randomDigest())), "<nil>")
	}},
	{"reads a token without auth_time as issued then", func(f *fixture) {
		r := f.token(f.pair())
		r.AuthTime = time.Time{}
		f.checkErr("record exchange", f.st.RecordExchange(f.ctx, r, unlimited), nil)
		if got := f.refresh(r.Digest); got == nil || !got.AuthTime.Equal(r.IssuedAt) {
			f.Fatalf("read %s, want auth_time %s", showRefresh(got), showTime(r.IssuedAt))
		}
	}},
}

var revokeFamilyCases = []contractCase{
	{"revokes the token and bars its family from rotation", func(f *fixture) {
		p := f.pair()
		a := f.exchanged(p)
		b := f.successor(a)
		f.checkErr("rotate", f.st.RotateRefresh(f.ctx, a.Digest, b, unlimited), nil)
		sibling := f.token(p) // a token of the family that was never rotated
		sibling.FamilyID = a.FamilyID
		f.checkErr("record exchange", f.st.RecordExchange(f.ctx, sibling, unlimited), nil)
		stranger := f.exchanged(p)

		at := f.now.Add(time.Second + 600*time.Millisecond)
		f.checkErr("revoke family", f.st.RevokeFamily(f.ctx, b, at, f.now.Add(auth.RefreshTTL), nil), nil)
		want := b
		want.RevokedAt = ptr(f.now.Add(time.Second))
		f.check("revoked token", showRefresh(f.refresh(b.Digest)), showRefresh(&want))
		for _, r := range []auth.RefreshRecord{b, sibling} {
			f.checkErr("rotation in the barred family", f.st.RotateRefresh(f.ctx, r.Digest, f.successor(r), unlimited), auth.ErrInvalidGrant)
		}
		if got := f.refresh(sibling.Digest); got.RotatedAt != nil || got.RevokedAt != nil {
			f.Fatalf("sibling %s", showRefresh(got))
		}
		f.checkErr("rotation in another family", f.st.RotateRefresh(f.ctx, stranger.Digest, f.successor(stranger), unlimited), nil)
	}},
	{"keeps the first revocation's time", func(f *fixture) {
		r := f.exchanged(f.pair())
		for _, at := range []time.Time{f.now, f.now.Add(time.Hour)} {
			f.checkErr("revoke family", f.st.RevokeFamily(f.ctx, r, at, at.Add(auth.RefreshTTL), nil), nil)
		}
		if got := f.refresh(r.Digest); got.RevokedAt == nil || !got.RevokedAt.Equal(f.now) {
			f.Fatalf("revoked at %s, want %s", showTimep(got.RevokedAt), showTime(f.now))
		}
	}},
	{"keeps a rotated token's rotation", func(f *fixture) {
		r := f.exchanged(f.pair())
		f.checkErr("rotate", f.st.RotateRefresh(f.ctx, r.Digest, f.successor(r), unlimited), nil)
		f.checkErr("revoke family", f.st.RevokeFamily(f.ctx, r, f.now, f.now.Add(auth.RefreshTTL), nil), nil)
		if got := f.refresh(r.Digest); got.RotatedAt == nil || got.RevokedAt == nil {
			f.Fatalf("read %s, want rotated and revoked", showRefresh(got))
		}
	}},
	// A token whose record expired meanwhile: the revocation leaves a
	// revoked stub in its place.
	{"leaves a revoked stub for an unknown token", func(f *fixture) {
		p := f.pair()
		gone := f.token(p)
		f.checkErr("revoke family", f.st.RevokeFamily(f.ctx, gone, f.now, f.now.Add(auth.RefreshTTL), nil), nil)
		f.check("stub", showRefresh(f.refresh(gone.Digest)), showRefresh(&auth.RefreshRecord{Digest: gone.Digest, RevokedAt: &f.now}))
		sibling := f.token(p)
		sibling.FamilyID = gone.FamilyID
		f.checkErr("record exchange", f.st.RecordExchange(f.ctx, sibling, unlimited), nil)
		f.checkErr("rotation in the barred family", f.st.RotateRefresh(f.ctx, sibling.Digest, f.successor(sibling), unlimited), auth.ErrInvalidGrant)
	}},
}
