package apitest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// WantTokenMalformed is the token endpoint's JSON answer to a body that is
// not exactly one JSON object with distinct members.
const WantTokenMalformed = `{"success":false,"errors":["Malformed JSON body."]}` + "\n"

// RefreshJSON presents a refresh token to the shared stack in upstream's
// JSON shape.
func RefreshJSON(t testing.TB, rt string) Response {
	t.Helper()
	return RefreshJSONOn(t, App(), rt)
}

// RefreshForm presents a refresh token to the shared stack as RFC 6749 §6,
// with the given headers and extra parameters.
func RefreshForm(t testing.TB, header map[string]string, rt string, extra url.Values) Response {
	t.Helper()
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, e := range extra {
		v[k] = e
	}
	return Do(t, App(), "POST", "/v1/oauth2/token", header, v.Encode())
}

// Revoke posts an RFC 7009 request to the shared stack.
func Revoke(t testing.TB, header map[string]string, v url.Values) Response {
	t.Helper()
	return Do(t, App(), "POST", "/v1/oauth2/revoke", header, v.Encode())
}

// oauthMembers are the members of an RFC 6749 token response of this API.
var oauthMembers = []string{"access_token", "errors", "expires_in", "refresh_token", "scope", "token_type"}

// AssertOAuth200 checks a successful RFC 6749 token response and returns it.
func AssertOAuth200(t testing.TB, r Response, wantScope string) Response {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if keys := Members(r.Body); !slices.Equal(keys, oauthMembers) {
		t.Fatalf("members %v, want %v", keys, oauthMembers)
	}
	if r.Body["token_type"] != "Bearer" || r.Body["expires_in"] != 600.0 || r.Body["scope"] != wantScope || len(ErrorsOf(r)) != 0 {
		t.Fatalf("body %s", r.Raw)
	}
	if rt, _ := r.Body["refresh_token"].(string); !strings.HasPrefix(rt, "rt_") || len(rt) != 46 {
		t.Fatalf("refresh_token %q", rt)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("cache headers %v", r.Header)
	}
	return r
}

// AssertPair checks whether a key pair gets a token from h.
func AssertPair(t testing.TB, h http.Handler, appKey, appSecret string, works bool) {
	t.Helper()
	r := ExchangeOn(t, h, appKey, appSecret)
	switch {
	case works && r.Status != 200:
		t.Fatalf("pair refused: %d %s", r.Status, r.Raw)
	case !works && (r.Status != 400 || r.Raw != WantInvalidPair):
		t.Fatalf("pair accepted: %d %s", r.Status, r.Raw)
	}
}

// KeyListing is the merchant's keys as GET /v1/api-keys?mid= shows them,
// to compare before and after a request that must change nothing.
func KeyListing(t testing.TB, h http.Handler, tok string, m Merchant) string {
	t.Helper()
	r := Do(t, h, "GET", "/v1/api-keys?mid="+m.MID, Bearer(tok), "")
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Raw)
	}
	return r.Raw
}

// B64 is standard base64 of s.
func B64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
