package loadrun

import (
	"fmt"
	"io"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// RouteResult is the answers of one route.
type RouteResult struct {
	Metrics vegeta.Metrics
	// ServerErrors counts 5xx answers; OtherErrors counts requests without
	// an answer and answers the route should not give.
	ServerErrors, OtherErrors int
	// NoAnswer holds the first errors of requests that got no answer.
	NoAnswer []string
}

// Result is a run's answers by route, and over all routes.
type Result struct {
	Duration time.Duration
	Routes   map[string]*RouteResult
	All      RouteResult
}

func newResult() *Result { return &Result{Routes: map[string]*RouteResult{}} }

func (res *Result) add(route int, r *vegeta.Result) {
	name := "unknown"
	var want []uint16
	if route >= 0 && route < len(routes) {
		name, want = routes[route].name, routes[route].want
	}
	rr := res.Routes[name]
	if rr == nil {
		rr = &RouteResult{}
		res.Routes[name] = rr
	}
	for _, into := range []*RouteResult{rr, &res.All} {
		into.Metrics.Add(r)
		switch {
		case r.Code >= 500:
			into.ServerErrors++
		case !slices.Contains(want, r.Code):
			into.OtherErrors++
		}
		if r.Code == 0 && len(into.NoAnswer) < 5 {
			into.NoAnswer = append(into.NoAnswer, r.Error)
		}
	}
}

func (res *Result) close(d time.Duration) {
	res.Duration = d
	for _, rr := range res.Routes {
		rr.Metrics.Close()
	}
	res.All.Metrics.Close()
}

// rate is requests per second over the whole run.
func (res *Result) rate(rr *RouteResult) float64 {
	return float64(rr.Metrics.Requests) / res.Duration.Seconds()
}

// Write prints a line per route (in the mix's order) and the total:
// requests, requests per second, p50 and p99 latency, 5xx and other errors.
func (res *Result) Write(w io.Writer) {
	fmt.Fprintf(w, "%-26s %9s %8s %9s %9s %6s %7s\n", "route", "requests", "req/s", "p50", "p99", "5xx", "other")
	line := func(name string, rr *RouteResult) {
		l := rr.Metrics.Latencies
		fmt.Fprintf(w, "%-26s %9d %8.1f %9s %9s %6d %7d\n", name, rr.Metrics.Requests, res.rate(rr), ms(l.P50), ms(l.P99), rr.ServerErrors, rr.OtherErrors)
	}
	for _, r := range routes {
		if rr := res.Routes[r.name]; rr != nil {
			line(r.name, rr)
		}
	}
	line("all routes", &res.All)
	if len(res.All.NoAnswer) > 0 {
		fmt.Fprintf(w, "requests without an answer, the first: %q\n", res.All.NoAnswer)
	}
	for _, r := range routes {
		if rr := res.Routes[r.name]; rr != nil && rr.ServerErrors+rr.OtherErrors > 0 {
			fmt.Fprintf(w, "%s: answers by status %v\n", r.name, rr.Metrics.StatusCodes)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
