package e2e_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// TestOAuthLogsHoldNoSecrets runs every token flow, successful and refused,
// and then checks that no key value, token or digest reached the logs.
func TestOAuthLogsHoldNoSecrets(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	basic := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret))
	secrets := []string{m.AppKey, m.AppSecret, other.AppSecret}

	first := apitest.Exchange(t, m)
	form := apitest.AssertOAuth200(t, apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", basic, "grant_type=client_credentials"), strings.Join(m.Scopes, " "))
	rotated := apitest.RefreshJSON(t, first.Body["refreshToken"].(string))
	refreshed := apitest.AssertOAuth200(t, apitest.RefreshForm(t, basic, form.Body["refresh_token"].(string), nil), strings.Join(m.Scopes, " "))
	for _, r := range []apitest.Response{first, rotated} {
		secrets = append(secrets, r.Body["accessToken"].(string), r.Body["refreshToken"].(string))
	}
	for _, r := range []apitest.Response{form, refreshed} {
		secrets = append(secrets, r.Body["access_token"].(string), r.Body["refresh_token"].(string))
	}
	apitest.Do( // Refusals that carry secrets: a wrong pair, a reuse, a revoke, a foreign revoke.
		t, apitest.App(), "POST", "/v1/oauth2/token", apitest.JSONCT, `{"AppKey":"`+m.AppKey+`","AppSecret":"`+other.AppSecret+`"}`)
	apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, other.AppSecret)), "grant_type=client_credentials")
	apitest.RefreshJSON(t, first.Body["refreshToken"].(string))
	apitest.Revoke(t, basic, url.Values{"token": {refreshed.Body["refresh_token"].(string)}})
	apitest.Revoke(t, basic, url.Values{"token": {first.Body["accessToken"].(string)}})

	logged := apitest.Logs().String()
	if !strings.Contains(logged, `"msg":"token issued"`) || !strings.Contains(logged, `"msg":"token refused"`) {
		t.Fatal("the flows logged nothing: the check below would prove nothing")
	}
	named := make(map[string]string, len(secrets))
	for i, s := range secrets {
		named[fmt.Sprintf("secret #%d (%.3s…)", i, s)] = s
	}
	apitest.NotLogged(t, named)
}
