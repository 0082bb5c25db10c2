package oauthapi_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

const revokeOK = `{"errors":[]}` + "\n"

// revoke posts an RFC 7009 request.

func TestOAuthRevoke200EndsTheFamily(t *testing.T) {
	m := apitest.NewMerchant(t)
	owner := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret))
	rt1 := apitest.RefreshFor(t, m)
	rt2 := apitest.RefreshJSON(t, rt1).Body["refreshToken"].(string)
	other := apitest.RefreshFor(t, m) // another family of the same client

	// Revoking the rotated rt1 ends its whole family, rt2 included.
	r := apitest.Revoke(t, owner, url.Values{"token": {rt1}, "token_type_hint": {"refresh_token"}})
	if r.Status != 200 || r.Raw != revokeOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s %v", r.Status, r.Raw, r.Header)
	}
	if r := apitest.RefreshJSON(t, rt2); r.Raw != apitest.WantInvalidRefresh {
		t.Fatalf("rt2 after revoking its family: %d %s", r.Status, r.Raw)
	}
	// Credentials in the body work too, and a wrong hint is only a hint.
	r = apitest.Revoke(t, apitest.FormCT, url.Values{"token": {other}, "token_type_hint": {"access_token"}, "client_id": {m.AppKey}, "client_secret": {m.AppSecret}})
	if r.Status != 200 || r.Raw != revokeOK {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if r := apitest.RefreshJSON(t, other); r.Raw != apitest.WantInvalidRefresh {
		t.Fatalf("revoked token refreshed: %d %s", r.Status, r.Raw)
	}
	// Revoking again is a no-op with the same answer.
	if r := apitest.Revoke(t, owner, url.Values{"token": {other}}); r.Status != 200 || r.Raw != revokeOK {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}

func TestOAuthRevoke200UnknownAndForeignTokensChangeNothing(t *testing.T) {
	m := apitest.NewMerchant(t)
	stranger := apitest.NewMerchant(t)
	rt := apitest.RefreshFor(t, m)
	strangerAuth := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(stranger.AppKey, stranger.AppSecret))
	for _, tok := range []string{rt, "rt_" + "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", "something else"} {
		if r := apitest.Revoke(t, strangerAuth, url.Values{"token": {tok}}); r.Status != 200 || r.Raw != revokeOK {
			t.Fatalf("%q: %d %s", tok, r.Status, r.Raw)
		}
	}
	// Only the owning client may revoke: m's token still works.
	if r := apitest.RefreshJSON(t, rt); r.Status != 200 {
		t.Fatalf("another client revoked the token: %d %s", r.Status, r.Raw)
	}
}

func TestOAuthRevokeErrors(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	rt := apitest.RefreshFor(t, m)
	owner := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret))
	checkOAuthErrors(t, "/v1/oauth2/revoke", []oauthErrorCase{
		{"no client authentication", apitest.FormCT, url.Values{"token": {rt}}.Encode(), 401, "invalid_client", "Client authentication failed."},
		{"wrong secret", apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, other.AppSecret)), url.Values{"token": {rt}}.Encode(), 401, "invalid_client", "Client authentication failed."},
		{"missing token", owner, "", 400, "invalid_request", "The token parameter is missing."},
		{"repeated token", owner, "token=a&token=b", 400, "invalid_request", "A parameter is repeated."},
		{"an access token", owner, url.Values{"token": {apitest.TokenFor(t, m)}}.Encode(), 400, "unsupported_token_type", "Only refresh tokens can be revoked."},
		{"a JSON body", apitest.WithHeader(apitest.JSONCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret)), `{"token":"` + rt + `"}`, 400, "invalid_request", "The body must be application/x-www-form-urlencoded."},
	})
	if r := apitest.RefreshJSON(t, rt); r.Status != 200 {
		t.Fatalf("a refused revocation revoked: %d %s", r.Status, r.Raw)
	}
	r := apitest.Do(t, apitest.App(), "GET", "/v1/oauth2/revoke", nil, "")
	if r.Status != 405 || r.Header.Get("Allow") != "POST" || !slices.Equal(apitest.ErrorsOf(r), []string{"Method not allowed."}) {
		t.Fatalf("%d %v %s", r.Status, r.Header, r.Raw)
	}
}
