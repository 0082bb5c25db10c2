// Package loadrun drives every route of a running API with a fixed number
// of concurrent clients (github.com/tsenart/vegeta as the load generator)
// and reports, per route, requests per second, latency percentiles and the
// answers by status. The traffic is a mix of token exchanges (JSON and
// form), refreshes (both shapes), revocations, key-set reads, creates,
// idempotent creates and their retries, reads, listings, rolls and deletes,
// each request built from what earlier answers returned. It only ever
// sends to a loopback address, and stops after its duration or its
// request budget, whichever comes first.
package loadrun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Merchant is an onboarded merchant's first key pair.
type Merchant struct {
	MID, AppKey, AppSecret string
}

// Options say what to drive and for how long.
type Options struct {
	// Base is the API's base URL; its host must be a loopback address.
	Base      string
	Merchants []Merchant
	// Clients is how many requests are in flight at once.
	Clients int
	// Duration and MaxRequests bound the run; the first reached ends it.
	Duration    time.Duration
	MaxRequests uint64
}

// Run sends the mix until the duration or the request budget is spent, or
// ctx ends, and returns the answers by route.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := loopbackOnly(o.Base); err != nil {
		return nil, err
	}
	if len(o.Merchants) == 0 || o.Clients < 1 || o.Duration <= 0 || o.MaxRequests == 0 {
		return nil, errors.New("loadrun: need merchants, clients, a duration and a request budget")
	}
	mix := newMix(o)
	atk := vegeta.NewAttacker(
		vegeta.Workers(uint64(o.Clients)), vegeta.MaxWorkers(uint64(o.Clients)),
		vegeta.Connections(o.Clients), vegeta.KeepAlive(true),
		vegeta.Timeout(30*time.Second), vegeta.MaxBody(64<<10), vegeta.Redirects(vegeta.NoFollow),
	)
	go func() {
		<-ctx.Done()
		atk.Stop()
	}()
	res := newResult()
	start := time.Now()
	// Unlimited rate: each of the Clients workers sends its next request as
	// soon as its last one is answered.
	for r := range atk.Attack(mix.next, vegeta.ConstantPacer{}, o.Duration, "load") {
		if r.Method == "" {
			continue // no request: the budget was spent (vegeta.ErrNoTargets)
		}
		route := mix.answered(r)
		res.add(route, r)
	}
	res.close(time.Since(start))
	return res, nil
}

// loopbackOnly refuses any target that is not on this machine's loopback.
func loopbackOnly(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("loadrun: base %q is not an http URL", base)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("loadrun: base %q is not a loopback address: load is only sent to 127.0.0.0/8 or ::1", base)
	}
	return nil
}
