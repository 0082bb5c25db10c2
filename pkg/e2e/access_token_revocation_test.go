package e2e_test

import (
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/auth"
)

// assert401 checks the exact answer to a dead access token.
func assert401(t *testing.T, r apitest.Response) {
	t.Helper()
	if r.Status != 401 || r.Raw != apitest.Want401 || r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Fatalf("%d %s %v", r.Status, r.Raw, r.Header)
	}
}

// TestOAuthRevokedKeyStopsAccessTokens: after a key is deleted, expired or
// rolled past its grace period, access tokens minted from it are refused
// once the container's cached status is older than its TTL: within 30 s by
// default, well inside the 60 s of the contract, and without a read per
// request before that.
func TestOAuthRevokedKeyStopsAccessTokens(t *testing.T) {
	// The changes go through the real routes on the shared stack; the stack
	// under test has its own status cache and a clock the test moves.
	deleteKey := func(public bool) func(t *testing.T, m apitest.Merchant, tok string) {
		return func(t *testing.T, m apitest.Merchant, tok string) {
			id := m.SecretKeyID
			if public {
				id = m.PublicKeyID
			}
			apitest.DeleteOn(t, apitest.App(), tok, id)
		}
	}
	roll := func(body string) func(t *testing.T, m apitest.Merchant, tok string) {
		return func(t *testing.T, m apitest.Merchant, tok string) {
			apitest.RollOn(t, apitest.App(), tok, m.SecretKeyID, body)
		}
	}
	if auth.StatusTTL > 30*time.Second {
		t.Fatalf("the default status TTL %v exceeds 30 s", auth.StatusTTL)
	}
	tests := []struct {
		name   string
		ttl    time.Duration
		change func(t *testing.T, m apitest.Merchant, tok string)
		dead   bool
	}{
		{"secret key deleted, default TTL", 0, deleteKey(false), true},
		{"secret key deleted, short TTL", 250 * time.Millisecond, deleteKey(false), true},
		{"public key deleted", 250 * time.Millisecond, deleteKey(true), true},
		{"secret key expired", 250 * time.Millisecond, func(t *testing.T, m apitest.Merchant, _ string) { apitest.SetExpired(t, m.SecretKeyID, m.AppSecret) }, true},
		{"secret rolled without grace", 250 * time.Millisecond, roll(""), true},
		{"secret rolled, in grace", 250 * time.Millisecond, roll(`{"grace_seconds":3600}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := apitest.NewMerchant(t)
			tok := apitest.TokenFor(t, m)
			clock := apitest.NewClock() // not before the token's iat (whole seconds)
			d := apitest.Deps(clock.Now)
			d.StatusTTL = tt.ttl
			ttl := tt.ttl
			if ttl == 0 {
				ttl = auth.StatusTTL
			}
			h := d.All()
			if r := apitest.CreateKeyWith(t, h, m, tok); r.Status != 201 { // reads and caches the status
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			tt.change(t, m, tok)
			clock.Advance(ttl - time.Millisecond)
			if r := apitest.CreateKeyWith(t, h, m, tok); r.Status != 201 {
				t.Fatalf("the cached status was not used: %d %s", r.Status, r.Raw)
			}
			clock.Advance(time.Millisecond)
			r := apitest.CreateKeyWith(t, h, m, tok)
			if !tt.dead {
				if r.Status != 201 {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
				return
			}
			assert401(t, r)
		})
	}
}

// TestOAuthTokensAfterARollLive: a token minted after a roll (with the new
// value) is not touched by the end of the old value's grace period.
func TestOAuthTokensAfterARollLive(t *testing.T) {
	m := apitest.NewMerchant(t)
	value := apitest.RollOn(t, apitest.App(), apitest.TokenFor(t, m), m.SecretKeyID, "")
	d := apitest.Deps(nil)
	d.StatusTTL = time.Millisecond
	if r := apitest.CreateKeyWith(t, d.All(), m, apitest.TokenWith(t, m.AppKey, value)); r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
