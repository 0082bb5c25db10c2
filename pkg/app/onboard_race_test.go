package app_test

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/app"
)

// Concurrent onboardings of one merchant (a retried invoke, two operators)
// issue one pair and refuse the rest: no second all-powerful pair, in any
// of several trials.
func TestOnboardConcurrentCallsIssueOnePair(t *testing.T) {
	const trials, calls = 5, 8
	ctx := context.Background()
	onboard := apitest.Deps(nil).Onboard()
	for trial := range trials {
		mid := "mid_" + strings.ToLower(rand.Text()[:12])
		results := make([]app.OnboardResult, calls)
		errs := make([]error, calls)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = onboard(ctx, app.OnboardEvent{MID: mid, Name: "Race"})
			}()
		}
		close(start)
		wg.Wait()

		var winner *app.OnboardResult
		for i, res := range results {
			switch {
			case errs[i] != nil:
				t.Fatalf("trial %d, call %d: %v", trial, i, errs[i])
			case res.Success && winner != nil:
				t.Fatalf("trial %d: two calls issued a pair (%s and %s)", trial, winner.SecretKeyID, res.SecretKeyID)
			case res.Success:
				apitest.Remember(res.AppKey, res.AppSecret)
				winner = &results[i]
			case !slices.Equal(res.Errors, []string{apikey.MsgAlreadyOnboarded}) || res.AppSecret != "":
				t.Fatalf("trial %d, call %d: %+v, want %q", trial, i, res, apikey.MsgAlreadyOnboarded)
			}
		}
		if winner == nil {
			t.Fatalf("trial %d: no call issued a pair", trial)
		}

		// Every key the merchant has, deleted ones included.
		keys, more, err := apitest.Deps(nil).Keys().Store.ListKeys(ctx, apikey.KeyQuery{MID: mid, Limit: apikey.MaxListLimit, IncludeRevoked: true})
		if err != nil || more {
			t.Fatalf("list: more=%v err=%v", more, err)
		}
		var ids []string
		for _, k := range keys {
			ids = append(ids, string(k.Type)+" "+k.ID)
		}
		slices.Sort(ids)
		want := []string{string(apikey.Public) + " " + winner.PublicKeyID, string(apikey.Secret) + " " + winner.SecretKeyID}
		if !slices.Equal(ids, want) {
			t.Fatalf("trial %d: merchant %s has keys %v, want exactly %v", trial, mid, ids, want)
		}
	}
}
