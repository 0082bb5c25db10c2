package oauthapi_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// refreshJSON presents a refresh token in upstream's JSON shape.

// refreshForm presents a refresh token as RFC 6749 §6.

// refreshItem reads a refresh token's record straight from the table.

func TestOAuthRefreshRotatesUpstreamJSON(t *testing.T) {
	m := apitest.NewMerchant(t)
	first := apitest.Exchange(t, m)
	rt := first.Body["refreshToken"].(string)
	for _, member := range []string{"RefreshToken", "refreshToken", "REFRESHTOKEN"} {
		r := apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.JSONCT, `{"`+member+`":"`+rt+`"}`)
		if r.Status != 200 || r.Body["success"] != true || len(apitest.ErrorsOf(r)) != 0 || r.Body["id"] != m.PublicKeyID {
			t.Fatalf("%s: %d %s", member, r.Status, r.Raw)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("no Cache-Control: no-store")
		}
		next := r.Body["refreshToken"].(string)
		if next == rt || len(next) != 46 {
			t.Fatalf("refreshToken %q", next)
		}
		if exp := int64(r.Body["expires"].(float64)); exp < time.Now().Add(590*time.Second).UnixMilli() {
			t.Fatalf("expires %d", exp)
		}
		_, firstClaims := apitest.DecodeJWT(t, first.Body["accessToken"].(string))
		_, claims := apitest.DecodeJWT(t, r.Body["accessToken"].(string))
		if claims["auth_time"] != firstClaims["auth_time"] || claims["sub"] != m.SecretKeyID || claims["scope"] != firstClaims["scope"] {
			t.Fatalf("claims %v", claims)
		}
		if got := apitest.CreateKeyWith(t, apitest.App(), m, r.Body["accessToken"].(string)); got.Status != 201 {
			t.Fatalf("refreshed token: %d %s", got.Status, got.Raw)
		}
		if item := apitest.RefreshItem(t, rt); item["rotated_at"] == nil || item["ttl"] == nil {
			t.Fatalf("the rotated token's record must stay as a tombstone with its TTL: %v", item)
		}
		rt = next
	}
}

func TestOAuthRefreshRotatesForm(t *testing.T) {
	m := apitest.NewMerchant(t)
	rt := apitest.RefreshFor(t, m)
	inBody := url.Values{"client_id": {m.AppKey}, "client_secret": {m.AppSecret}}
	// Client authentication in the body, then with HTTP Basic.
	headers := []map[string]string{apitest.FormCT, apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret))}
	extras := []url.Values{inBody, nil}
	for i := range headers {
		r := apitest.AssertOAuth200(t, apitest.RefreshForm(t, headers[i], rt, extras[i]), strings.Join(m.Scopes, " "))
		next := r.Body["refresh_token"].(string)
		if next == rt {
			t.Fatal("not rotated")
		}
		if again := apitest.RefreshForm(t, apitest.FormCT, rt, inBody); again.Raw != apitest.OAuthError("invalid_grant", "The refresh token is invalid, expired or revoked.") {
			t.Fatalf("the old token still works: %s", again.Raw)
		}
		// The reuse above revoked the family: start a new one.
		rt = apitest.RefreshFor(t, m)
	}
	// A refresh may narrow the access token; the refresh token keeps its scope.
	narrowed := url.Values{"scope": {"api-keys:read"}, "client_id": {m.AppKey}, "client_secret": {m.AppSecret}}
	r := apitest.AssertOAuth200(t, apitest.RefreshForm(t, apitest.FormCT, rt, narrowed), "api-keys:read")
	apitest.AssertOAuth200(t, apitest.RefreshForm(t, apitest.FormCT, r.Body["refresh_token"].(string), inBody), strings.Join(m.Scopes, " "))
}

// TestOAuthRefreshNeedsClientAuthentication: a form refresh with the
// refresh token alone is refused (RFC 6749 §6), and the token is not
// spent: its owner can still use it.
func TestOAuthRefreshNeedsClientAuthentication(t *testing.T) {
	m := apitest.NewMerchant(t)
	rt := apitest.RefreshFor(t, m)
	r := apitest.RefreshForm(t, apitest.FormCT, rt, nil)
	if r.Status != 401 || r.Raw != apitest.OAuthError("invalid_client", "Client authentication failed.") ||
		r.Header.Get("WWW-Authenticate") != `Basic realm="`+apitest.Env().Config.Issuer+`", charset="UTF-8"` {
		t.Fatalf("%d %s (WWW-Authenticate %q)", r.Status, r.Raw, r.Header.Get("WWW-Authenticate"))
	}
	if item := apitest.RefreshItem(t, rt); item["rotated_at"] != nil || item["revoked_at"] != nil {
		t.Fatalf("the refused request changed the token: %v", item)
	}
	apitest.AssertOAuth200(t, apitest.RefreshForm(t, apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret)), rt, nil), strings.Join(m.Scopes, " "))
}

func TestOAuthRefreshReuseRevokesTheFamily(t *testing.T) {
	m := apitest.NewMerchant(t)
	rt1 := apitest.RefreshFor(t, m)
	rt2 := apitest.RefreshJSON(t, rt1).Body["refreshToken"].(string)
	rt3 := apitest.RefreshJSON(t, rt2).Body["refreshToken"].(string)
	if rt3 == "" {
		t.Fatal("rotation failed")
	}
	// An attacker replays rt1: refused, and the legitimate holder of rt3
	// is cut off too (OAuth 2.0 Security BCP §4.14).
	for _, rt := range []string{rt1, rt3, rt2} {
		if r := apitest.RefreshJSON(t, rt); r.Status != 400 || r.Raw != apitest.WantInvalidRefresh {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
	// The key pair itself is fine: a new exchange starts a new family.
	if r := apitest.RefreshJSON(t, apitest.RefreshFor(t, m)); r.Status != 200 {
		t.Fatalf("new family: %d %s", r.Status, r.Raw)
	}
}

func TestOAuthRefreshConcurrentUseAtMostOneSuccess(t *testing.T) {
	m := apitest.NewMerchant(t)
	rt := apitest.RefreshFor(t, m)
	const n = 8
	results := make([]apitest.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = apitest.RefreshJSON(t, rt)
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, r := range results {
		switch {
		case r.Status == 200:
			wins++
		case r.Status != 400 || r.Raw != apitest.WantInvalidRefresh:
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
	if wins > 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded", wins, n)
	}
	t.Logf("%d of %d concurrent refreshes succeeded", wins, n)
	// A token presented twice is a reuse, concurrent or not: the family is
	// revoked, so even the winner's new refresh token is refused.
	for _, r := range results {
		if r.Status == 200 {
			if again := apitest.RefreshJSON(t, r.Body["refreshToken"].(string)); again.Raw != apitest.WantInvalidRefresh {
				t.Fatalf("the family survived a concurrent reuse: %d %s", again.Status, again.Raw)
			}
		}
	}
}

func TestOAuthRefreshDiesWithItsKeyAtOnce(t *testing.T) {
	for _, which := range []string{"secret", "public"} {
		t.Run(which, func(t *testing.T) {
			m := apitest.NewMerchant(t)
			rt := apitest.RefreshFor(t, m)
			id := m.SecretKeyID
			if which == "public" {
				id = m.PublicKeyID
			}
			apitest.DeleteOn(t, apitest.App(), apitest.TokenFor(t, m), id)
			if r := apitest.RefreshJSON(t, rt); r.Raw != apitest.WantInvalidRefresh {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestOAuthRefreshAcrossARoll(t *testing.T) {
	clk, h, m, tok := apitest.ClockedMerchant(t)
	first := apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret)
	apitest.RollOn(t, h, apitest.SecondManager(t, h, m, tok), m.SecretKeyID, `{"grace_seconds":3600}`)

	// In the grace period the old value and its refresh tokens still work.
	clk.Advance(time.Minute)
	r := apitest.RefreshJSONOn(t, h, apitest.Str(first, "refreshToken"))
	if r.Status != 200 {
		t.Fatalf("in grace: %d %s", r.Status, r.Raw)
	}
	rt := apitest.Str(r, "refreshToken")
	apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret) // and the old value still authenticates

	// Grace over: the family dies, although its last token was issued after
	// the roll, and the old value no longer authenticates.
	clk.Advance(time.Hour)
	if r := apitest.RefreshJSONOn(t, h, rt); r.Raw != apitest.WantInvalidRefresh {
		t.Fatalf("after grace: %d %s", r.Status, r.Raw)
	}
	if r := apitest.ExchangeOn(t, h, m.AppKey, m.AppSecret); r.Raw != apitest.WantInvalidPair {
		t.Fatalf("old value after grace: %d %s", r.Status, r.Raw)
	}
}

func TestOAuthLastUsedMoves(t *testing.T) {
	clk, h, m, _ := apitest.ClockedMerchant(t)
	assertAt := func(what string, want time.Time) {
		t.Helper()
		for _, id := range []string{m.SecretKeyID, m.PublicKeyID} {
			if got := apitest.AttrS(apitest.KeyRecord(t, id), "last_used"); got != want.Format(time.RFC3339) {
				t.Fatalf("%s: last_used of %s = %q, want %v", what, id, got, want)
			}
		}
	}
	clk.Advance(time.Hour)
	rt := apitest.Str(apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret), "refreshToken")
	assertAt("exchange", clk.Now())
	clk.Advance(time.Hour)
	if r := apitest.RefreshJSONOn(t, h, rt); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	assertAt("refresh", clk.Now())
}
