package storetest

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
)

// claim is a fresh claim of the fixture's merchant, by a calling key of
// its own, on an idempotency key of its own, made at the fixture's now.
func (f *fixture) claim() apikey.IdempotencyClaim {
	c := apikey.IdempotencyClaim{
		MID: f.mid, CallerKeyID: apikey.NewID(f.now), Key: "order-" + rand.Text(), Token: rand.Text(),
		At: f.now, LockedUntil: f.now.Add(apikey.IdempotencyLock), ExpiresAt: f.now.Add(apikey.IdempotencyWindow),
	}
	_, _ = rand.Read(c.Fingerprint[:])
	return c
}

// rival is another request's claim on the same idempotency key.
func rival(c apikey.IdempotencyClaim) apikey.IdempotencyClaim {
	c.Token = rand.Text()
	_, _ = rand.Read(c.Fingerprint[:])
	return c
}

// claimed records c, which must be the first claim.
func (f *fixture) claimed(c apikey.IdempotencyClaim) apikey.IdempotencyClaim {
	f.Helper()
	prior, err := f.st.ClaimIdempotencyKey(f.ctx, c)
	f.checkErr("claim", err, nil)
	f.check("record found by the first claim", showClaim(prior), "<nil>")
	return c
}

// held reads the record a claim like c finds (recording c when there is none).
func (f *fixture) held(c apikey.IdempotencyClaim) string {
	f.Helper()
	prior, err := f.st.ClaimIdempotencyKey(f.ctx, rival(c))
	f.checkErr("claim", err, nil)
	return showClaim(prior)
}

// pending is how the record of claim c reads while c holds it.
func pending(c apikey.IdempotencyClaim) string {
	return showClaim(&apikey.IdempotencyRecord{Fingerprint: c.Fingerprint, Token: c.Token, LockedUntil: c.LockedUntil.Truncate(time.Millisecond)})
}

// done is how a record first claimed by c reads once it created key id.
func done(c apikey.IdempotencyClaim, id string) string {
	return showClaim(&apikey.IdempotencyRecord{Fingerprint: c.Fingerprint, Token: c.Token, Done: true, KeyID: id})
}

// takenOver hands first's record to a rival claim and returns how the
// record reads then.
func (f *fixture) takenOver(first apikey.IdempotencyClaim) string {
	f.Helper()
	next := rival(first)
	f.checkErr("take over", f.st.TakeOverIdempotencyKey(f.ctx, next, first.Token), nil)
	next.Fingerprint = first.Fingerprint // a take-over keeps the record's fingerprint
	return pending(next)
}

// completed creates a key under claim c and returns its id.
func (f *fixture) completed(c apikey.IdempotencyClaim) string {
	f.Helper()
	nk := f.newKey(apikey.Secret)
	nk.Claim = &c
	f.create(nk)
	return nk.Key.ID
}

var claimCases = append(append([]contractCase{
	{"records a first claim; a second one reads it, lock in milliseconds", func(f *fixture) {
		c := f.claim()
		c.LockedUntil = c.LockedUntil.Add(123456789 * time.Nanosecond)
		f.claimed(c)
		second := rival(c)
		prior, err := f.st.ClaimIdempotencyKey(f.ctx, second)
		f.checkErr("second claim", err, nil)
		f.check("record read by the second claim", showClaim(prior), pending(c))
		f.check("record after the second claim", f.held(c), pending(c))
	}},
	{"of concurrent claims, one records", func(f *fixture) {
		const n = 6
		c := f.claim()
		claims := make([]apikey.IdempotencyClaim, n)
		priors := make([]*apikey.IdempotencyRecord, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			claims[i] = rival(c)
			wg.Go(func() { priors[i], errs[i] = f.st.ClaimIdempotencyKey(f.ctx, claims[i]) })
		}
		wg.Wait()
		winner := -1
		for i := range n {
			f.checkErr("claim", errs[i], nil)
			if priors[i] == nil {
				if winner >= 0 {
					f.Fatalf("claims %d and %d both recorded", winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			f.Fatal("no claim recorded")
		}
		for i, p := range priors {
			if i != winner {
				f.check("record read by a losing claim", showClaim(p), pending(claims[winner]))
			}
		}
	}},
}, claimScopes()...), claimWindows()...)

// claimScopes: an idempotency key belongs to one calling key of one merchant.
func claimScopes() []contractCase {
	rows := []struct {
		name   string
		change func(c *apikey.IdempotencyClaim)
		shared bool
	}{
		{"the same calling key and idempotency key read the first claim", func(*apikey.IdempotencyClaim) {}, true},
		{"another calling key of the merchant claims its own", func(c *apikey.IdempotencyClaim) { c.CallerKeyID = apikey.NewID(c.At) }, false},
		{"another merchant claims its own", func(c *apikey.IdempotencyClaim) { c.MID = newMID() }, false},
		{"another idempotency key is its own", func(c *apikey.IdempotencyClaim) { c.Key += "-2" }, false},
		{"an idempotency key differing in case is its own", func(c *apikey.IdempotencyClaim) { c.Key = strings.ToLower(c.Key) }, false},
	}
	cases := make([]contractCase, len(rows))
	for i, row := range rows {
		cases[i] = contractCase{row.name, func(f *fixture) {
			first := f.claimed(f.claim())
			other := rival(first)
			row.change(&other)
			prior, err := f.st.ClaimIdempotencyKey(f.ctx, other)
			f.checkErr("claim", err, nil)
			want := "<nil>"
			if row.shared {
				want = pending(first)
			}
			f.check("record read", showClaim(prior), want)
			f.check("the first claim's record", f.held(first), pending(first))
		}}
	}
	return cases
}

// claimWindows: a record counts until its window ends, in whole seconds
// (the table compares its TTL, in Unix seconds, with the claim's time).
func claimWindows() []contractCase {
	rows := []struct {
		name  string
		at    time.Duration // after the first claim's window's whole second
		done  bool
		fresh bool
	}{
		{"a second before the window ends: the record stands", -time.Second, false, false},
		{"a done record, a second before the window ends: the record stands", -time.Second, true, false},
		{"in the window's last second: the record has expired", 0, false, true},
		{"after the window: the record has expired", time.Hour, false, true},
		{"a done record after the window: the record has expired", time.Hour, true, true},
	}
	cases := make([]contractCase, len(rows))
	for i, row := range rows {
		cases[i] = contractCase{row.name, func(f *fixture) {
			first := f.claim()
			first.ExpiresAt = first.ExpiresAt.Add(600 * time.Millisecond)
			f.claimed(first)
			want := pending(first)
			if row.done {
				want = done(first, f.completed(first))
			}
			late := rival(first)
			late.At = first.ExpiresAt.Truncate(time.Second).Add(row.at)
			late.LockedUntil, late.ExpiresAt = late.At.Add(apikey.IdempotencyLock), late.At.Add(apikey.IdempotencyWindow)
			prior, err := f.st.ClaimIdempotencyKey(f.ctx, late)
			f.checkErr("late claim", err, nil)
			if row.fresh {
				f.check("record read", showClaim(prior), "<nil>")
				f.check("record after the late claim", f.held(late), pending(late))
				return
			}
			f.check("record read", showClaim(prior), want)
		}}
	}
	return cases
}

var takeOverCases = append([]contractCase{
	{"keeps the record's window", func(f *fixture) {
		first := f.claimed(f.claim())
		next := rival(first)
		next.ExpiresAt = first.ExpiresAt.Add(apikey.IdempotencyWindow)
		f.checkErr("take over", f.st.TakeOverIdempotencyKey(f.ctx, next, first.Token), nil)
		late := rival(first)
		late.At = first.ExpiresAt
		prior, err := f.st.ClaimIdempotencyKey(f.ctx, late)
		f.checkErr("claim at the end of the first window", err, nil)
		f.check("record read", showClaim(prior), "<nil>")
	}},
}, takeOvers()...)

// takeOvers: only the claim that holds a pending record can be taken over.
func takeOvers() []contractCase {
	rows := []struct {
		name    string
		arrange func(f *fixture, first apikey.IdempotencyClaim, next *apikey.IdempotencyClaim, stale *string) (after string)
		want    error
	}{
		{"from the holder's token: the new claim holds the record, its fingerprint kept", func(_ *fixture, first apikey.IdempotencyClaim, next *apikey.IdempotencyClaim, _ *string) string {
			held := *next
			held.Fingerprint = first.Fingerprint
			return pending(held)
		}, nil},
		{"from another token: ErrIdempotencyInFlight", func(_ *fixture, first apikey.IdempotencyClaim, _ *apikey.IdempotencyClaim, stale *string) string {
			*stale = "not the holder"
			return pending(first)
		}, apikey.ErrIdempotencyInFlight},
		{"of a done record: ErrIdempotencyInFlight", func(f *fixture, first apikey.IdempotencyClaim, _ *apikey.IdempotencyClaim, _ *string) string {
			return done(first, f.completed(first))
		}, apikey.ErrIdempotencyInFlight},
		{"of a released record: ErrIdempotencyInFlight", func(f *fixture, first apikey.IdempotencyClaim, next *apikey.IdempotencyClaim, _ *string) string {
			f.checkErr("release", f.st.ReleaseIdempotencyKey(f.ctx, first), nil)
			return "<nil>"
		}, apikey.ErrIdempotencyInFlight},
	}
	cases := make([]contractCase, len(rows))
	for i, row := range rows {
		cases[i] = contractCase{row.name, func(f *fixture) {
			first := f.claimed(f.claim())
			next := rival(first)
			next.LockedUntil = next.LockedUntil.Add(time.Minute + 987654321*time.Nanosecond)
			stale := first.Token
			want := row.arrange(f, first, &next, &stale)
			f.checkErr("take over", f.st.TakeOverIdempotencyKey(f.ctx, next, stale), row.want)
			f.check("record after", f.held(first), want)
		}}
	}
	return cases
}

// releaseCases: only the claim that holds a pending record releases it.
var releaseCases = func() []contractCase {
	rows := []struct {
		name    string
		arrange func(f *fixture, first apikey.IdempotencyClaim) (after string)
	}{
		{"by the holder frees the idempotency key", func(*fixture, apikey.IdempotencyClaim) string { return "<nil>" }},
		{"by a claim taken over does nothing", func(f *fixture, first apikey.IdempotencyClaim) string {
			return f.takenOver(first)
		}},
		{"of a done record does nothing", func(f *fixture, first apikey.IdempotencyClaim) string {
			return done(first, f.completed(first))
		}},
		{"twice does nothing", func(f *fixture, first apikey.IdempotencyClaim) string {
			f.checkErr("release", f.st.ReleaseIdempotencyKey(f.ctx, first), nil)
			return "<nil>"
		}},
	}
	cases := make([]contractCase, len(rows))
	for i, row := range rows {
		cases[i] = contractCase{row.name, func(f *fixture) {
			first := f.claimed(f.claim())
			want := row.arrange(f, first)
			f.checkErr("release", f.st.ReleaseIdempotencyKey(f.ctx, first), nil)
			f.check("record after", f.held(first), want)
		}}
	}
	return cases
}()

// createWithClaimCases: a create under a claim completes it in the same
// write, or writes nothing.
var createWithClaimCases = func() []contractCase {
	rows := []struct {
		name    string
		arrange func(f *fixture, first apikey.IdempotencyClaim, nk *apikey.NewKey) (after string)
		want    error
	}{
		{"holding the claim: the key is created and the record done", func(_ *fixture, first apikey.IdempotencyClaim, nk *apikey.NewKey) string {
			return done(first, nk.Key.ID)
		}, nil},
		{"under a claim taken over: ErrIdempotencyInFlight", func(f *fixture, first apikey.IdempotencyClaim, _ *apikey.NewKey) string {
			return f.takenOver(first)
		}, apikey.ErrIdempotencyInFlight},
		{"under a claim released: ErrIdempotencyInFlight", func(f *fixture, first apikey.IdempotencyClaim, _ *apikey.NewKey) string {
			f.checkErr("release", f.st.ReleaseIdempotencyKey(f.ctx, first), nil)
			return "<nil>"
		}, apikey.ErrIdempotencyInFlight},
		{"under a claim done already: ErrIdempotencyInFlight", func(f *fixture, first apikey.IdempotencyClaim, _ *apikey.NewKey) string {
			return done(first, f.completed(first))
		}, apikey.ErrIdempotencyInFlight},
		{"under a claim taken over, with a taken digest: ErrIdempotencyInFlight", func(f *fixture, first apikey.IdempotencyClaim, nk *apikey.NewKey) string {
			nk.Digest = f.key(apikey.Public).Digest
			return f.takenOver(first)
		}, apikey.ErrIdempotencyInFlight},
		{"holding the claim, with a taken digest: ErrDuplicateDigest, the record stays pending", func(f *fixture, first apikey.IdempotencyClaim, nk *apikey.NewKey) string {
			nk.Digest = f.key(apikey.Public).Digest
			return pending(first)
		}, apikey.ErrDuplicateDigest},
	}
	cases := make([]contractCase, len(rows))
	for i, row := range rows {
		cases[i] = contractCase{row.name, func(f *fixture) {
			first := f.claimed(f.claim())
			nk := f.newKey(apikey.Secret)
			nk.Claim = &first
			want := row.arrange(f, first, &nk)
			f.checkErr("create", f.st.CreateKey(f.ctx, nk), row.want)
			if _, err := f.st.GetKey(f.ctx, nk.Key.ID); (err == nil) != (row.want == nil) {
				f.Fatalf("create answered %v, and the key reads with %v", row.want, err)
			}
			f.check("record after", f.held(first), want)
		}}
	}
	return cases
}()
