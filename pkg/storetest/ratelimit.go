package storetest

import (
	"errors"
	"sync"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

// unlimited is a token limit no case reaches.
const unlimited = 1 << 30

// minute is the start of the minute the case's tokens are counted in, and
// at(s) a time s seconds into it: a case never straddles two minutes by
// accident.
func (f *fixture) minute() time.Time { return auth.TokenMinute(f.now) }

func (f *fixture) at(seconds int) time.Time {
	return f.minute().Add(time.Duration(seconds) * time.Second)
}

// tokenAt is a refresh token of a new family for p, issued at t.
func (f *fixture) tokenAt(p pair, t time.Time) auth.RefreshRecord {
	r := f.token(p)
	r.IssuedAt = t
	return r
}

// refusedNothingWritten fails the case unless err is want and the refused
// token r was not stored, the token it would have rotated (when set) is
// still unrotated, and last_used of r's keys is still last.
func (f *fixture) refusedNothingWritten(what string, err, want error, r auth.RefreshRecord, rotated *auth.RefreshRecord, last *time.Time) {
	f.Helper()
	f.checkErr(what, err, want)
	if got := f.refresh(r.Digest); got != nil {
		f.Fatalf("%s: a refused write stored %s", what, showRefresh(got))
	}
	if rotated != nil {
		if got := f.refresh(rotated.Digest); got == nil || got.RotatedAt != nil {
			f.Fatalf("%s: a refused rotation changed the token presented: %s", what, showRefresh(got))
		}
	}
	for _, id := range []string{r.SecretKeyID, r.PublicKeyID} {
		if got := f.get(id).Key.LastUsed; showTimep(got) != showTimep(last) {
			f.Fatalf("%s: a refused write moved last_used of %s to %s (was %s)", what, id, showTimep(got), showTimep(last))
		}
	}
}

var tokenLimitCases = []contractCase{
	{"counts exchanges and rotations of a secret key together: past the limit, both are refused and write nothing", func(f *fixture) {
		const limit = 3
		p := f.pair()
		first := f.tokenAt(p, f.at(1))
		f.checkErr("exchange 1", f.st.RecordExchange(f.ctx, first, limit), nil)
		f.checkErr("exchange 2", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(2)), limit), nil)
		second := f.successor(first)
		second.IssuedAt = f.at(3)
		f.checkErr("rotation", f.st.RotateRefresh(f.ctx, first.Digest, second, limit), nil)

		last := f.at(3)
		over := f.tokenAt(p, f.at(58))
		f.refusedNothingWritten("exchange past the limit", f.st.RecordExchange(f.ctx, over, limit), auth.ErrRateLimited, over, nil, &last)
		next := f.successor(second)
		next.IssuedAt = f.at(59)
		f.refusedNothingWritten("rotation past the limit", f.st.RotateRefresh(f.ctx, second.Digest, next, limit), auth.ErrRateLimited, next, &second, &last)
	}},
	{"starts a new count each minute", func(f *fixture) {
		p := f.pair()
		f.checkErr("exchange", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(0)), 1), nil)
		f.checkErr("exchange in the same minute", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(59)), 1), auth.ErrRateLimited)
		f.checkErr("exchange in the next minute", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(60)), 1), nil)
		f.checkErr("exchange past it", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(61)), 1), auth.ErrRateLimited)
	}},
	{"counts per secret key, whatever the public key: another secret key of the merchant is not limited", func(f *fixture) {
		p := f.pair()
		f.checkErr("exchange", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(1)), 1), nil)
		otherPublic := pair{sec: p.sec, pub: f.key(apikey.Public)}
		f.checkErr("same secret, another public key", f.st.RecordExchange(f.ctx, f.tokenAt(otherPublic, f.at(2)), 1), auth.ErrRateLimited)
		otherSecret := pair{sec: f.key(apikey.Secret), pub: p.pub}
		f.checkErr("another secret key", f.st.RecordExchange(f.ctx, f.tokenAt(otherSecret, f.at(3)), 1), nil)
	}},
	{"counts no refused write", func(f *fixture) {
		p := f.pair()
		gone := f.tokenAt(p, f.at(1))
		gone.PublicKeyID = apikey.NewID(f.now)
		f.checkErr("exchange with a key gone", f.st.RecordExchange(f.ctx, gone, 2), apikey.ErrNotFound)
		first := f.tokenAt(p, f.at(2))
		f.checkErr("exchange", f.st.RecordExchange(f.ctx, first, 2), nil)
		f.checkErr("rotation", f.st.RotateRefresh(f.ctx, first.Digest, f.successor(first), 2), nil)
		f.checkErr("rotation of a rotated token", f.st.RotateRefresh(f.ctx, first.Digest, f.successor(first), 3), auth.ErrRefreshConflict)
		f.checkErr("the third token", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(3)), 3), nil)
	}},
	{"a key gone and the limit reached: apikey.ErrNotFound", func(f *fixture) {
		p := f.pair()
		f.checkErr("exchange", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(1)), 1), nil)
		f.revoke(p.pub)
		f.checkErr("exchange", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(2)), 1), apikey.ErrNotFound)
	}},
	{"a barred family and the limit reached: auth.ErrInvalidGrant; a token already rotated: auth.ErrRefreshConflict", func(f *fixture) {
		p := f.pair()
		first := f.tokenAt(p, f.at(1))
		f.checkErr("exchange", f.st.RecordExchange(f.ctx, first, 2), nil)
		f.checkErr("rotation", f.st.RotateRefresh(f.ctx, first.Digest, f.successor(first), 2), nil)
		f.checkErr("rotation of a rotated token", f.st.RotateRefresh(f.ctx, first.Digest, f.successor(first), 2), auth.ErrRefreshConflict)
		f.barFamily(first.FamilyID)
		f.checkErr("rotation in a barred family", f.st.RotateRefresh(f.ctx, first.Digest, f.successor(first), 2), auth.ErrInvalidGrant)
	}},
	{"of concurrent exchanges of one secret key, at most the limit commit, and the refused write nothing", func(f *fixture) {
		const n, limit = 8, 3
		p := f.pair()
		tokens := make([]auth.RefreshRecord, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			tokens[i] = f.tokenAt(p, f.at(i))
			wg.Go(func() { errs[i] = f.st.RecordExchange(f.ctx, tokens[i], limit) })
		}
		wg.Wait()
		committed := 0
		for i, err := range errs {
			stored := f.refresh(tokens[i].Digest) != nil
			if stored != (err == nil) {
				f.Fatalf("exchange %d: err %v, token stored %t", i, err, stored)
			}
			if err == nil {
				committed++
			}
		}
		// On AWS a loser may be cancelled by a transaction conflict rather
		// than by the count: at most the limit is the contract.
		if committed > limit || committed == 0 {
			f.Fatalf("%d exchanges committed, limit %d: %v", committed, limit, errs)
		}
		for range limit - committed {
			f.checkErr("an exchange after the race", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(50)), limit), nil)
		}
		err := f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(51)), limit)
		if !errors.Is(err, auth.ErrRateLimited) {
			f.Fatalf("an exchange past the limit after the race: %v", err)
		}
	}},
}
