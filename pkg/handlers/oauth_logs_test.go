package handlers_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestOAuthLogsHoldNoSecrets runs every token flow, successful and refused,
// and then checks that no key value, token or digest reached the logs.
func TestOAuthLogsHoldNoSecrets(t *testing.T) {
	m := newMerchant(t)
	other := newMerchant(t)
	basic := withHeader(formCT, "Authorization", basicAuth(m.AppKey, m.AppSecret))
	secrets := []string{m.AppKey, m.AppSecret, other.AppSecret}

	first := exchange(t, m)
	form := assertOAuth200(t, do(t, app(), "POST", "/v1/oauth2/token", basic, "grant_type=client_credentials"), strings.Join(m.Scopes, " "))
	rotated := refreshJSON(t, first.Body["refreshToken"].(string))
	refreshed := assertOAuth200(t, refreshForm(t, basic, form.Body["refresh_token"].(string), nil), strings.Join(m.Scopes, " "))
	for _, r := range []response{first, rotated} {
		secrets = append(secrets, r.Body["accessToken"].(string), r.Body["refreshToken"].(string))
	}
	for _, r := range []response{form, refreshed} {
		secrets = append(secrets, r.Body["access_token"].(string), r.Body["refresh_token"].(string))
	}
	// Refusals that carry secrets: a wrong pair, a reuse, a revoke, a foreign revoke.
	do(t, app(), "POST", "/v1/oauth2/token", jsonCT, `{"AppKey":"`+m.AppKey+`","AppSecret":"`+other.AppSecret+`"}`)
	do(t, app(), "POST", "/v1/oauth2/token", withHeader(formCT, "Authorization", basicAuth(m.AppKey, other.AppSecret)), "grant_type=client_credentials")
	refreshJSON(t, first.Body["refreshToken"].(string))
	revoke(t, basic, url.Values{"token": {refreshed.Body["refresh_token"].(string)}})
	revoke(t, basic, url.Values{"token": {first.Body["accessToken"].(string)}})

	logged := logs.String()
	if !strings.Contains(logged, `"msg":"token issued"`) || !strings.Contains(logged, `"msg":"token refused"`) {
		t.Fatal("the flows logged nothing: the check below would prove nothing")
	}
	named := make(map[string]string, len(secrets))
	for i, s := range secrets {
		named[fmt.Sprintf("secret #%d (%.3s…)", i, s)] = s
	}
	assertNotLogged(t, named)
}
