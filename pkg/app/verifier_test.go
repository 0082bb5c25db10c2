package app_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/token"
)

// TestColdStartFetchesTheVerificationKeys: building a function's handler
// starts fetching the keys that verify access tokens, before any request;
// the first request that needs them (a protected route, the JWKS) then
// fetches nothing.
func TestColdStartFetchesTheVerificationKeys(t *testing.T) {
	d := apitest.Memory(nil)
	m := apitest.NewMerchantOn(t, d)
	tok := apitest.TokenOn(t, d.Token(), m)

	// Each function on the same stage, whose key source counts its fetches.
	counted := *d.Adapters
	var fetches atomic.Int32
	fetched := make(chan struct{}, 10)
	counted.Keys = func(ctx context.Context) (token.KeySet, error) {
		fetches.Add(1)
		defer func() { fetched <- struct{}{} }()
		return d.Adapters.Keys(ctx)
	}
	f := d
	f.Adapters = &counted
	for _, c := range []struct {
		name, method, path string
		function           func(app.Deps) http.Handler
		authenticated      bool
	}{
		{"api-keys", "GET", "/v1/api-keys/" + m.SecretKeyID, app.Deps.APIKeys, true},
		{"token", "GET", "/v1/oauth2/jwks", app.Deps.Token, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fetches.Store(0)
			h := c.function(f)
			select {
			case <-fetched:
			case <-time.After(10 * time.Second):
				t.Fatal("no fetch before a request")
			}
			headers := map[string]string{}
			if c.authenticated {
				headers = apitest.Bearer(tok)
			}
			if r := apitest.Do(t, h, c.method, c.path, headers, ""); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if n := fetches.Load(); n != 1 {
				t.Fatalf("%d fetches, want the one before the request", n)
			}
		})
	}
}
