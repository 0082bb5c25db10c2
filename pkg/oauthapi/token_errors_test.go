package oauthapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// oauthError is the exact RFC 6749 §5.2 body of this API.

// oauthErrorCase is a request that must fail with an RFC 6749 §5.2 body.
type oauthErrorCase struct {
	name   string
	header map[string]string
	body   string
	status int
	code   string
	desc   string
}

// checkOAuthErrors posts each case to path and checks the exact body, the
// no-store header, and a Basic challenge on every 401 and only there.
func checkOAuthErrors(t *testing.T, path string, cases []oauthErrorCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.Do(t, apitest.App(), "POST", path, tt.header, tt.body)
			if r.Status != tt.status || r.Raw != apitest.OAuthError(tt.code, tt.desc) {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("no Cache-Control: no-store")
			}
			challenge := r.Header.Get("WWW-Authenticate")
			if want := `Basic realm="` + apitest.Env().Config.Issuer + `", charset="UTF-8"`; (tt.status == 401) != (challenge == want) {
				t.Fatalf("WWW-Authenticate %q on a %d", challenge, tt.status)
			}
		})
	}
}

// newNarrowSecret creates a secret key holding only api-keys:read for m.
func newNarrowSecret(t *testing.T, m apitest.Merchant) string {
	t.Helper()
	r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(apitest.TokenFor(t, m)), `{"mid":"`+m.MID+`","name":"narrow","type":"secret","scopes":["api-keys:read"]}`)
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	return r.Body["value"].(string)
}

func TestOAuthErrors(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	narrow := newNarrowSecret(t, m)
	creds := func(secret string) url.Values {
		return url.Values{"client_id": {m.AppKey}, "client_secret": {secret}}
	}
	enc := func(v url.Values, extra ...string) string {
		out := v.Encode()
		for _, e := range extra {
			out += "&" + e
		}
		return strings.TrimPrefix(out, "&")
	}
	basic := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret))
	badBasic := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, other.AppSecret))
	const (
		ir  = "invalid_request"
		ic  = "invalid_client"
		ig  = "invalid_grant"
		ugt = "unsupported_grant_type"
		is  = "invalid_scope"
	)
	const (
		descClient = "Client authentication failed."
		descGrant  = "The refresh token is invalid, expired or revoked."
		descScope  = "The requested scope is invalid or exceeds the scope granted."
		descGT     = "The grant_type is not supported."
	)
	checkOAuthErrors(t, "/v1/oauth2/token", []oauthErrorCase{
		{"missing grant_type", apitest.FormCT, enc(creds(m.AppSecret)), 400, ir, "The grant_type parameter is missing."},
		{"repeated grant_type", apitest.FormCT, enc(creds(m.AppSecret), "grant_type=client_credentials", "grant_type=client_credentials"), 400, ir, "A parameter is repeated."},
		{"repeated client_secret", apitest.FormCT, enc(creds(m.AppSecret), "grant_type=client_credentials", "client_secret=x"), 400, ir, "A parameter is repeated."},
		{"malformed form", apitest.FormCT, "grant_type=%zz", 400, ir, "Malformed form body."},
		{"Basic and client_secret", basic, enc(url.Values{"client_secret": {m.AppSecret}}, "grant_type=client_credentials"), 400, ir, "Client credentials were sent in more than one way."},
		{"Basic and another client_id", basic, enc(url.Values{"client_id": {other.AppKey}}, "grant_type=client_credentials"), 400, ir, "Client credentials were sent in more than one way."},
		{"refresh without refresh_token", apitest.FormCT, "grant_type=refresh_token", 400, ir, "The refresh_token parameter is missing."},
		{"body too large", apitest.FormCT, "grant_type=client_credentials&x=" + strings.Repeat("a", 17<<10), 413, ir, "Request body too large."},

		{"no client credentials", apitest.FormCT, "grant_type=client_credentials", 401, ic, descClient},
		{"client_id only", apitest.FormCT, enc(url.Values{"client_id": {m.AppKey}}, "grant_type=client_credentials"), 401, ic, descClient},
		{"wrong secret in body", apitest.FormCT, enc(creds(other.AppSecret), "grant_type=client_credentials"), 401, ic, descClient},
		{"mistyped secret in body", apitest.FormCT, enc(creds(mistype(m.AppSecret)), "grant_type=client_credentials"), 401, ic, descClient},
		{"wrong secret with Basic", badBasic, "grant_type=client_credentials", 401, ic, descClient},
		{"Basic not base64", apitest.WithHeader(apitest.FormCT, "Authorization", "Basic !!!"), "grant_type=client_credentials", 401, ic, descClient},
		{"Basic without a colon", apitest.WithHeader(apitest.FormCT, "Authorization", "Basic "+apitest.B64(m.AppKey+m.AppSecret)), "grant_type=client_credentials", 401, ic, descClient},
		{"Basic with a bad escape", apitest.WithHeader(apitest.FormCT, "Authorization", "Basic "+apitest.B64(m.AppKey+":%zz")), "grant_type=client_credentials", 401, ic, descClient},
		{"refresh with wrong client credentials", badBasic, "grant_type=refresh_token&refresh_token=rt_x", 401, ic, descClient},

		{"unknown refresh token", basic, "grant_type=refresh_token&refresh_token=rt_" + strings.Repeat("A", 43), 400, ig, descGrant},
		{"garbage refresh token", basic, "grant_type=refresh_token&refresh_token=hello", 400, ig, descGrant},
		{"refresh without client authentication", apitest.FormCT, "grant_type=refresh_token&refresh_token=" + url.QueryEscape(apitest.RefreshFor(t, m)), 401, ic, descClient},
		{"refresh token of another client", basic, "grant_type=refresh_token&refresh_token=" + url.QueryEscape(apitest.RefreshFor(t, other)), 400, ig, descGrant},

		{"password grant", basic, "grant_type=password&username=a&password=b", 400, ugt, descGT},
		{"authorization_code grant", basic, "grant_type=authorization_code&code=x", 400, ugt, descGT},
		{"jwt-bearer grant", basic, "grant_type=" + url.QueryEscape("urn:ietf:params:oauth:grant-type:jwt-bearer"), 400, ugt, descGT},

		{"scope not in the catalogue", basic, "grant_type=client_credentials&scope=admin", 400, is, descScope},
		{"scope beyond the secret key's", apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, narrow)), "grant_type=client_credentials&scope=api-keys:write", 400, is, descScope},
	})
	apitest.AssertOAuth200( // The narrow secret itself works, with its own scope.
		t, apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, narrow)), "grant_type=client_credentials"), "api-keys:read")
}

// refreshFor returns a fresh refresh token of m's key pair.

// mistype changes the last character of a value (always to a different one).
func mistype(v string) string {
	last := "x"
	if v[len(v)-1] == 'x' {
		last = "y"
	}
	return v[:len(v)-1] + last
}
