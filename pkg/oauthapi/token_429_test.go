package oauthapi_test

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// The token limit per secret key (SPEC "Token rate limit per key").
const (
	want429Upstream = `{"success":false,"errors":["Too many token requests."]}` + "\n"
	want429OAuth    = `{"error":"too_many_requests","error_description":"Too many token requests.","errors":["Too many token requests."]}` + "\n"
)

// limitedStack is the whole stack on the emulators with a token limit of
// limit and its clock at clk, as one container.
func limitedStack(clk *apitest.Clock, limit int) http.Handler {
	d := apitest.Deps(clk.Now)
	d.Config.TokenRateLimit = limit
	return d.All()
}

// check429 checks a refusal for the key's rate: its body, Retry-After the
// seconds left in the clock's minute (rounded up), no-store, and the log
// line.
func check429(t *testing.T, what string, clk *apitest.Clock, r apitest.Response, body string) {
	t.Helper()
	left := clk.Now().Truncate(time.Minute).Add(time.Minute).Sub(clk.Now())
	if r.Status != 429 || r.Raw != body {
		t.Fatalf("%s: %d %s", what, r.Status, r.Raw)
	}
	if got, want := r.Header.Get("Retry-After"), strconv.Itoa(int(math.Ceil(left.Seconds()))); got != want {
		t.Fatalf("%s: Retry-After %q, want %q", what, got, want)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("%s: headers %v", what, r.Header)
	}
	if ev := eventOf(t, r); ev["event"] != "token.refused" || ev["reason"] != "rate_limited" || ev["error"] != "too_many_requests" {
		t.Fatalf("%s: logged %v", what, ev)
	}
}

// TestTokenLimit429: exchanges and refreshes of one secret key count
// together; past the limit every way of asking for a token is 429 in its
// shape, with Retry-After, and the next minute works again.
func TestTokenLimit429(t *testing.T) {
	clk := apitest.NewClock()
	clk.Advance(clk.Now().Truncate(time.Minute).Add(time.Minute + 17*time.Second).Sub(clk.Now())) // hh:mm:17
	h := limitedStack(clk, 3)
	m, other := apitest.NewMerchant(t), apitest.NewMerchant(t)
	first := apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret)
	second := apitest.RefreshJSONOn(t, h, apitest.Str(first, "refreshToken"))
	if second.Status != 200 {
		t.Fatalf("refresh: %d %s", second.Status, second.Raw)
	}
	third := apitest.Do(t, h, "POST", "/v1/oauth2/token", apitest.FormCT,
		url.Values{"grant_type": {"client_credentials"}, "client_id": {m.AppKey}, "client_secret": {m.AppSecret}}.Encode())
	if third.Status != 200 {
		t.Fatalf("client credentials: %d %s", third.Status, third.Raw)
	}

	clk.Advance(25*time.Second + 300*time.Millisecond) // hh:mm:42.3: 17.7 s left, Retry-After 18
	rt := apitest.Str(second, "refreshToken")
	check429(t, "exchange", clk, apitest.ExchangeOn(t, h, m.AppKey, m.AppSecret), want429Upstream)
	check429(t, "refresh", clk, apitest.RefreshJSONOn(t, h, rt), want429Upstream)
	check429(t, "client credentials", clk, apitest.Do(t, h, "POST", "/v1/oauth2/token", apitest.FormCT,
		url.Values{"grant_type": {"client_credentials"}, "client_id": {m.AppKey}, "client_secret": {m.AppSecret}}.Encode()), want429OAuth)
	check429(t, "OAuth refresh", clk, apitest.RefreshFormOn(t, h, m.AppKey, m.AppSecret, rt), want429OAuth)
	// The limit is the secret key's: another merchant's is untouched.
	apitest.MustExchangeOn(t, h, other.AppKey, other.AppSecret)

	clk.Advance(18 * time.Second) // as Retry-After said: the next minute
	if r := apitest.RefreshJSONOn(t, h, rt); r.Status != 200 {
		t.Fatalf("the refused refresh token in the next minute: %d %s", r.Status, r.Raw)
	}
	apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret)
}

// TestTokenLimitWritesNothing: a refused exchange or refresh changes
// nothing: last_used stays, the refresh token presented still works.
func TestTokenLimitWritesNothing(t *testing.T) {
	clk := apitest.NewClock()
	clk.Advance(clk.Now().Truncate(time.Minute).Add(time.Minute).Sub(clk.Now())) // hh:mm:00
	h := limitedStack(clk, 1)
	m := apitest.NewMerchant(t)
	ok := apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret)
	used := clk.Now().UTC().Format(time.RFC3339)

	clk.Advance(30 * time.Second)
	rt := apitest.Str(ok, "refreshToken")
	if r := apitest.ExchangeOn(t, h, m.AppKey, m.AppSecret); r.Status != 429 {
		t.Fatalf("exchange: %d %s", r.Status, r.Raw)
	}
	if r := apitest.RefreshJSONOn(t, h, rt); r.Status != 429 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	tok := apitest.Str(ok, "accessToken")
	for _, id := range []string{m.SecretKeyID, m.PublicKeyID} {
		r := apitest.Do(t, h, "GET", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
		if r.Status != 200 || r.Body["last_used"] != used {
			t.Fatalf("key %s after refused requests: %d last_used %v, want %s", id, r.Status, r.Body["last_used"], used)
		}
	}
	clk.Advance(30 * time.Second)
	if r := apitest.RefreshJSONOn(t, h, rt); r.Status != 200 {
		t.Fatalf("the refresh token a refused refresh presented: %d %s", r.Status, r.Raw)
	}
}

// TestTokenLimitAcrossContainers: two stacks, as two containers of the
// function, share the count: of concurrent requests through both, the key
// obtains exactly its limit, and every other request is refused 429.
func TestTokenLimitAcrossContainers(t *testing.T) {
	const limit, requests = 4, 16
	clk := apitest.NewClock()
	containers := []http.Handler{limitedStack(clk, limit), limitedStack(clk, limit)}
	m := apitest.NewMerchant(t)
	body := `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`
	statuses := make([]int, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			statuses[i] = apitest.Serve(containers[i%2], "POST", "/v1/oauth2/token", apitest.JSONCT, body).Code
		})
	}
	wg.Wait()
	issued := 0
	for _, s := range statuses {
		switch s {
		case 200:
			issued++
		case 429:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	// DynamoDB Local runs transactions one at a time, so here none is lost
	// to a conflict and the count is exact.
	if issued != limit {
		t.Fatalf("%d tokens issued, limit %d: %v", issued, limit, statuses)
	}
}
