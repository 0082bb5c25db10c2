package handlers_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/auth"
)

// assert401 checks the exact answer to a dead access token.
func assert401(t *testing.T, r response) {
	t.Helper()
	if r.Status != 401 || r.Raw != want401 || r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Fatalf("%d %s %v", r.Status, r.Raw, r.Header)
	}
}

// TestOAuthRevokedKeyStopsAccessTokens: after a key is deleted, expired or
// rolled past its grace period, access tokens minted from it are refused
// once the container's cached status is older than its TTL: within 30 s by
// default, well inside the 60 s of the contract, and without a read per
// request before that.
func TestOAuthRevokedKeyStopsAccessTokens(t *testing.T) {
	rollRecord := func(t *testing.T, m merchant, tok string, graceLeft time.Duration) {
		_, claims := decodeJWT(t, tok)
		authTime := time.Unix(int64(claims["auth_time"].(float64)), 0)
		simulateRoll(t, m.SecretKeyID, m.AppSecret, authTime.Add(time.Second), time.Now().Add(graceLeft))
	}
	if auth.StatusTTL > 30*time.Second {
		t.Fatalf("the default status TTL %v exceeds 30 s", auth.StatusTTL)
	}
	tests := []struct {
		name   string
		ttl    time.Duration
		change func(t *testing.T, m merchant, tok string)
		dead   bool
	}{
		{"secret key deleted, default TTL", 0, func(t *testing.T, m merchant, _ string) { simulateDelete(t, m.SecretKeyID, m.AppSecret) }, true},
		{"secret key deleted, short TTL", 250 * time.Millisecond, func(t *testing.T, m merchant, _ string) { simulateDelete(t, m.SecretKeyID, m.AppSecret) }, true},
		{"public key deleted", 250 * time.Millisecond, func(t *testing.T, m merchant, _ string) { simulateDelete(t, m.PublicKeyID, m.AppKey) }, true},
		{"secret key expired", 250 * time.Millisecond, func(t *testing.T, m merchant, _ string) { setExpired(t, m.SecretKeyID, m.AppSecret) }, true},
		{"secret rolled, grace over", 250 * time.Millisecond, func(t *testing.T, m merchant, tok string) { rollRecord(t, m, tok, -time.Second) }, true},
		{"secret rolled, in grace", 250 * time.Millisecond, func(t *testing.T, m merchant, tok string) { rollRecord(t, m, tok, time.Hour) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMerchant(t)
			tok := tokenFor(t, m)
			clock := newClock() // not before the token's iat (whole seconds)
			d := deps(clock.Now)
			d.StatusTTL = tt.ttl
			ttl := tt.ttl
			if ttl == 0 {
				ttl = auth.StatusTTL
			}
			h := d.All()
			if r := createKeyWith(t, h, m, tok); r.Status != 201 { // reads and caches the status
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			tt.change(t, m, tok)
			clock.Advance(ttl - time.Millisecond)
			if r := createKeyWith(t, h, m, tok); r.Status != 201 {
				t.Fatalf("the cached status was not used: %d %s", r.Status, r.Raw)
			}
			clock.Advance(time.Millisecond)
			r := createKeyWith(t, h, m, tok)
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

// TestOAuthRevokedKeyStopsAccessTokensRealTime is the same without a moved
// clock: a short TTL, a real wait.
func TestOAuthRevokedKeyStopsAccessTokensRealTime(t *testing.T) {
	d := deps(nil)
	d.StatusTTL = 200 * time.Millisecond
	h := d.All()
	m := newMerchant(t)
	tok := tokenFor(t, m)
	if r := createKeyWith(t, h, m, tok); r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	simulateDelete(t, m.SecretKeyID, m.AppSecret)
	time.Sleep(250 * time.Millisecond)
	assert401(t, createKeyWith(t, h, m, tok))
}

// TestOAuthTokensAfterARollLive: a token minted after a roll (with the new
// value) is not touched by the end of the old value's grace period.
func TestOAuthTokensAfterARollLive(t *testing.T) {
	m := newMerchant(t)
	now := time.Now()
	transact(t, types.TransactWriteItem{Update: update("KEY#"+m.SecretKeyID, "META", "SET rolled_at = :r, previous_valid_until = :g",
		map[string]types.AttributeValue{":r": rfc3339(now.Add(-5 * time.Second)), ":g": rfc3339(now.Add(-time.Second))})})
	d := deps(nil)
	d.StatusTTL = time.Millisecond
	if r := createKeyWith(t, d.All(), m, tokenFor(t, m)); r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
