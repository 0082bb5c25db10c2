package handlers_test

import (
	"net/url"
	"slices"
	"testing"
)

const revokeOK = `{"errors":[]}` + "\n"

// revoke posts an RFC 7009 request.
func revoke(t *testing.T, header map[string]string, v url.Values) response {
	t.Helper()
	return do(t, app(), "POST", "/v1/oauth2/revoke", header, v.Encode())
}

func TestOAuthRevoke200EndsTheFamily(t *testing.T) {
	m := newMerchant(t)
	owner := withHeader(formCT, "Authorization", basicAuth(m.AppKey, m.AppSecret))
	rt1 := refreshFor(t, m)
	rt2 := refreshJSON(t, rt1).Body["refreshToken"].(string)
	other := refreshFor(t, m) // another family of the same client

	// Revoking the rotated rt1 ends its whole family, rt2 included.
	r := revoke(t, owner, url.Values{"token": {rt1}, "token_type_hint": {"refresh_token"}})
	if r.Status != 200 || r.Raw != revokeOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s %v", r.Status, r.Raw, r.Header)
	}
	if r := refreshJSON(t, rt2); r.Raw != wantInvalidRefresh {
		t.Fatalf("rt2 after revoking its family: %d %s", r.Status, r.Raw)
	}
	// Credentials in the body work too, and a wrong hint is only a hint.
	r = revoke(t, formCT, url.Values{"token": {other}, "token_type_hint": {"access_token"}, "client_id": {m.AppKey}, "client_secret": {m.AppSecret}})
	if r.Status != 200 || r.Raw != revokeOK {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if r := refreshJSON(t, other); r.Raw != wantInvalidRefresh {
		t.Fatalf("revoked token refreshed: %d %s", r.Status, r.Raw)
	}
	// Revoking again is a no-op with the same answer.
	if r := revoke(t, owner, url.Values{"token": {other}}); r.Status != 200 || r.Raw != revokeOK {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}

func TestOAuthRevoke200UnknownAndForeignTokensChangeNothing(t *testing.T) {
	m := newMerchant(t)
	stranger := newMerchant(t)
	rt := refreshFor(t, m)
	strangerAuth := withHeader(formCT, "Authorization", basicAuth(stranger.AppKey, stranger.AppSecret))
	for _, tok := range []string{rt, "rt_" + "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", "something else"} {
		if r := revoke(t, strangerAuth, url.Values{"token": {tok}}); r.Status != 200 || r.Raw != revokeOK {
			t.Fatalf("%q: %d %s", tok, r.Status, r.Raw)
		}
	}
	// Only the owning client may revoke: m's token still works.
	if r := refreshJSON(t, rt); r.Status != 200 {
		t.Fatalf("another client revoked the token: %d %s", r.Status, r.Raw)
	}
}

func TestOAuthRevokeErrors(t *testing.T) {
	m := newMerchant(t)
	other := newMerchant(t)
	rt := refreshFor(t, m)
	owner := withHeader(formCT, "Authorization", basicAuth(m.AppKey, m.AppSecret))
	checkOAuthErrors(t, "/v1/oauth2/revoke", []oauthErrorCase{
		{"no client authentication", formCT, url.Values{"token": {rt}}.Encode(), 401, "invalid_client", "Client authentication failed."},
		{"wrong secret", withHeader(formCT, "Authorization", basicAuth(m.AppKey, other.AppSecret)), url.Values{"token": {rt}}.Encode(), 401, "invalid_client", "Client authentication failed."},
		{"missing token", owner, "", 400, "invalid_request", "The token parameter is missing."},
		{"repeated token", owner, "token=a&token=b", 400, "invalid_request", "A parameter is repeated."},
		{"an access token", owner, url.Values{"token": {tokenFor(t, m)}}.Encode(), 400, "unsupported_token_type", "Only refresh tokens can be revoked."},
		{"a JSON body", withHeader(jsonCT, "Authorization", basicAuth(m.AppKey, m.AppSecret)), `{"token":"` + rt + `"}`, 400, "invalid_request", "The body must be application/x-www-form-urlencoded."},
	})
	if r := refreshJSON(t, rt); r.Status != 200 {
		t.Fatalf("a refused revocation revoked: %d %s", r.Status, r.Raw)
	}
	r := do(t, app(), "GET", "/v1/oauth2/revoke", nil, "")
	if r.Status != 405 || r.Header.Get("Allow") != "POST" || !slices.Equal(errorsOf(r), []string{"Method not allowed."}) {
		t.Fatalf("%d %v %s", r.Status, r.Header, r.Raw)
	}
}
