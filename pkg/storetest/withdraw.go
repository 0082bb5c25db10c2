package storetest

import (
	"github.com/flexfactor/credplane/pkg/auth"
)

// WithdrawIssue undoes an exchange or a rotation whose tokens were never
// handed out (the access token could not be signed).
var withdrawCases = []contractCase{
	{"withdraws an exchange: its token is revoked and given back to the count", func(f *fixture) {
		p := f.pair()
		r := f.tokenAt(p, f.at(5))
		f.checkErr("exchange", f.st.RecordExchange(f.ctx, r, 1), nil)
		f.checkErr("withdraw", f.st.WithdrawIssue(f.ctx, r, nil), nil)
		want := r
		want.IssuedAt, want.RevokedAt = f.at(5), ptr(f.at(5))
		f.check("withdrawn token", showRefresh(f.refresh(r.Digest)), showRefresh(&want))
		f.checkErr("rotation of the withdrawn token", f.st.RotateRefresh(f.ctx, r.Digest, f.successor(r), unlimited), auth.ErrRefreshConflict)
		f.checkErr("the token given back", f.st.RecordExchange(f.ctx, f.tokenAt(p, f.at(6)), 1), nil)
	}},
	{"withdraws a rotation: the token presented may rotate again, its successor is revoked, the count given back", func(f *fixture) {
		p := f.pair()
		old := f.tokenAt(p, f.at(1))
		f.checkErr("exchange", f.st.RecordExchange(f.ctx, old, 2), nil)
		next := f.successor(old)
		next.IssuedAt = f.at(2)
		f.checkErr("rotation", f.st.RotateRefresh(f.ctx, old.Digest, next, 2), nil)
		f.checkErr("withdraw", f.st.WithdrawIssue(f.ctx, next, &old.Digest), nil)
		f.check("token presented", showRefresh(f.refresh(old.Digest)), showRefresh(&old))
		if got := f.refresh(next.Digest); got == nil || got.RevokedAt == nil {
			f.Fatalf("withdrawn successor %s, want revoked", showRefresh(got))
		}
		again := f.successor(old)
		again.IssuedAt = f.at(3)
		f.checkErr("the rotation again, on the token given back", f.st.RotateRefresh(f.ctx, old.Digest, again, 2), nil)
	}},
	{"refuses to clear a rotation it did not make: an error, nothing changes", func(f *fixture) {
		p := f.pair()
		old := f.tokenAt(p, f.at(1))
		f.checkErr("exchange", f.st.RecordExchange(f.ctx, old, unlimited), nil)
		next := f.successor(old)
		next.IssuedAt = f.at(2)
		f.checkErr("rotation", f.st.RotateRefresh(f.ctx, old.Digest, next, unlimited), nil)
		other := f.tokenAt(p, f.at(3))
		f.checkErr("another exchange", f.st.RecordExchange(f.ctx, other, unlimited), nil)
		before := []string{showRefresh(f.refresh(old.Digest)), showRefresh(f.refresh(other.Digest))}
		f.checkErr("withdraw", f.st.WithdrawIssue(f.ctx, other, &old.Digest), errOther)
		after := []string{showRefresh(f.refresh(old.Digest)), showRefresh(f.refresh(other.Digest))}
		f.check("tokens", after[0]+" | "+after[1], before[0]+" | "+before[1])
	}},
}
