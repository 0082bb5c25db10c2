package apitest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/app"
)

// Merchant is an onboarded merchant with its first key pair.
type Merchant struct {
	app.OnboardResult
}

// NewMerchant onboards a fresh merchant on the emulators' stage through
// the onboard function's path.
func NewMerchant(t testing.TB) Merchant {
	t.Helper()
	return NewMerchantOn(t, Deps(nil))
}

// NewMerchantOn onboards a fresh merchant on the stack d.
func NewMerchantOn(t testing.TB, d app.Deps) Merchant {
	t.Helper()
	mid := "mid_" + strings.ToLower(rand.Text()[:12])
	res, err := d.Onboard()(context.Background(), app.OnboardEvent{MID: mid, Name: "Test merchant"})
	if err != nil || !res.Success {
		t.Fatalf("onboard %s: %v %v", mid, err, res.Errors)
	}
	Remember(res.AppKey, res.AppSecret)
	return Merchant{res}
}

// ExchangeOn posts a key pair to h's token endpoint in upstream's JSON shape.
func ExchangeOn(t testing.TB, h http.Handler, appKey, appSecret string) Response {
	t.Helper()
	return Do(t, h, "POST", "/v1/oauth2/token", JSONCT, `{"AppKey":"`+appKey+`","AppSecret":"`+appSecret+`"}`)
}

// MustExchangeOn is ExchangeOn for a pair that must be accepted.
func MustExchangeOn(t testing.TB, h http.Handler, appKey, appSecret string) Response {
	t.Helper()
	r := ExchangeOn(t, h, appKey, appSecret)
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Raw)
	}
	return r
}

// Exchange trades the merchant's first pair for tokens on the shared stack.
func Exchange(t testing.TB, m Merchant) Response {
	t.Helper()
	return MustExchangeOn(t, App(), m.AppKey, m.AppSecret)
}

// TokenFor returns an access token for the merchant's first pair.
func TokenFor(t testing.TB, m Merchant) string {
	t.Helper()
	return Str(Exchange(t, m), "accessToken")
}

// TokenOn returns an access token for the merchant's first pair from h.
func TokenOn(t testing.TB, h http.Handler, m Merchant) string {
	t.Helper()
	return Str(MustExchangeOn(t, h, m.AppKey, m.AppSecret), "accessToken")
}

// TokenWith returns an access token for an explicit pair.
func TokenWith(t testing.TB, appKey, appSecret string) string {
	t.Helper()
	return Str(MustExchangeOn(t, App(), appKey, appSecret), "accessToken")
}

// RefreshFor returns a refresh token for the merchant's first pair.
func RefreshFor(t testing.TB, m Merchant) string {
	t.Helper()
	return Str(Exchange(t, m), "refreshToken")
}

// RefreshJSONOn presents a refresh token to h in upstream's JSON shape.
func RefreshJSONOn(t testing.TB, h http.Handler, rt string) Response {
	t.Helper()
	return Do(t, h, "POST", "/v1/oauth2/token", JSONCT, `{"RefreshToken":"`+rt+`"}`)
}

// RefreshFormOn presents a refresh token to h as RFC 6749 §6, the client
// authenticating with HTTP Basic.
func RefreshFormOn(t testing.TB, h http.Handler, appKey, appSecret, rt string) Response {
	t.Helper()
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	return Do(t, h, "POST", "/v1/oauth2/token", WithHeader(FormCT, "Authorization", BasicAuth(appKey, appSecret)), v.Encode())
}

// CreateKeyWith tries POST /v1/api-keys with an access token: a protected
// route's answer.
func CreateKeyWith(t testing.TB, h http.Handler, m Merchant, tok string) Response {
	t.Helper()
	return Do(t, h, "POST", "/v1/api-keys", Bearer(tok), `{"mid":"`+m.MID+`","name":"probe","type":"public"}`)
}

// MustCreateKey creates a key through h and returns the 201 response.
func MustCreateKey(t testing.TB, h http.Handler, tok, body string) Response {
	t.Helper()
	r := Do(t, h, "POST", "/v1/api-keys", Bearer(tok), body)
	if r.Status != 201 {
		t.Fatalf("create %s: %d %s", body, r.Status, r.Raw)
	}
	return r
}

// NarrowPair creates a secret key of m holding only scopes and returns an
// access token for it (paired with m's public key) and its id.
func NarrowPair(t testing.TB, h http.Handler, m Merchant, tok string, scopes ...string) (string, string) {
	t.Helper()
	r := MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"narrow","type":"secret","scopes":`+JSON(scopes)+`}`)
	return Str(MustExchangeOn(t, h, m.AppKey, Str(r, "value")), "accessToken"), Str(r, "id")
}

// SecondManager creates another full-scope secret key of m through h and
// returns an access token for it.
func SecondManager(t testing.TB, h http.Handler, m Merchant, tok string) string {
	t.Helper()
	r := MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"owner","type":"secret"}`)
	return Str(MustExchangeOn(t, h, m.AppKey, Str(r, "value")), "accessToken")
}

// RollOn rolls key id through h and returns the new value.
func RollOn(t testing.TB, h http.Handler, tok, id, body string) string {
	t.Helper()
	r := Do(t, h, "POST", "/v1/api-keys/"+id+"/roll", Bearer(tok), body)
	if r.Status != 200 {
		t.Fatalf("roll: %d %s", r.Status, r.Raw)
	}
	return Str(r, "value")
}

// DeleteOn deletes key id through h.
func DeleteOn(t testing.TB, h http.Handler, tok, id string) {
	t.Helper()
	if r := Do(t, h, "DELETE", "/v1/api-keys/"+id, Bearer(tok), ""); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
}

// WithIdempotencyKey returns bearer headers with an Idempotency-Key.
func WithIdempotencyKey(tok, key string) map[string]string {
	h := Bearer(tok)
	h["Idempotency-Key"] = key
	return h
}

// NewIdempotencyKey returns a fresh idempotency key.
func NewIdempotencyKey() string { return "retry-" + rand.Text() }

// DecodeJWT returns a token's header and claims without verifying it.
func DecodeJWT(t testing.TB, tok string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	var out [2]map[string]any
	for i := range 2 {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out[0], out[1]
}
