package httpapi

import (
	"context"
	"net/http"
	"time"
)

// DeadlineMargin is kept free before a deadline a request already carries
// (a Lambda invocation's): time to answer with our own 503, log it, and
// hand the response back, before Lambda would cut the invocation off.
const DeadlineMargin = 500 * time.Millisecond

// WithBudget gives every request a deadline: budget after it arrives or,
// when earlier, DeadlineMargin before the deadline its context already
// carries. Every call to a dependency runs under it, so a dependency that
// is slow or down costs a request at most its budget.
func WithBudget(h http.Handler, budget time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithDeadline(r.Context(), Deadline(r.Context(), time.Now(), budget))
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Deadline is the deadline of a request arriving at now with ctx: budget
// later, or DeadlineMargin before ctx's own deadline when that is earlier.
func Deadline(ctx context.Context, now time.Time, budget time.Duration) time.Time {
	d := now.Add(budget)
	if outer, ok := ctx.Deadline(); ok && outer.Add(-DeadlineMargin).Before(d) {
		d = outer.Add(-DeadlineMargin)
	}
	return d
}
