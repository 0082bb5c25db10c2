package oauthapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// oauthKeys are the members of an RFC 6749 §5.1 body, plus errors.

// assertOAuth200 checks a successful RFC 6749 token response and returns it.

func TestOAuthClientCredentials200(t *testing.T) {
	m := apitest.NewMerchant(t)
	all := strings.Join(m.Scopes, " ")
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {m.AppKey}, "client_secret": {m.AppSecret}}.Encode()
	basic := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret))
	// RFC 6749 §2.3.1: each part is form-encoded before Basic; a client may
	// encode more than it must, and "_" as %5F still decodes.
	over := apitest.WithHeader(apitest.FormCT, "Authorization", "Basic "+apitest.B64(strings.ReplaceAll(m.AppKey, "_", "%5F")+":"+strings.ReplaceAll(m.AppSecret, "_", "%5F")))
	cases := map[string]struct {
		header map[string]string
		body   string
	}{
		"credentials in the body":       {apitest.FormCT, body},
		"HTTP Basic":                    {basic, "grant_type=client_credentials"},
		"HTTP Basic, percent-encoded":   {over, "grant_type=client_credentials"},
		"Basic plus the same client_id": {basic, "grant_type=client_credentials&client_id=" + m.AppKey},
		"charset in content type":       {map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := apitest.AssertOAuth200(t, apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", c.header, c.body), all)
			tok := r.Body["access_token"].(string)
			_, claims := apitest.DecodeJWT(t, tok)
			if claims["sub"] != m.SecretKeyID || claims["client_id"] != m.PublicKeyID || claims["mid"] != m.MID || claims["scope"] != all {
				t.Fatalf("claims %v", claims)
			}
			if claims["auth_time"] != claims["iat"] {
				t.Fatalf("auth_time %v, iat %v", claims["auth_time"], claims["iat"])
			}
			if r := apitest.CreateKeyWith(t, apitest.App(), m, tok); r.Status != 201 {
				t.Fatalf("the token does not work: %d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestOAuthScopeNarrowsTheToken(t *testing.T) {
	m := apitest.NewMerchant(t)
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"api-keys:read charges:read api-keys:read"}}.Encode()
	r := apitest.AssertOAuth200(t, apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret)), body), "api-keys:read charges:read")
	_, claims := apitest.DecodeJWT(t, r.Body["access_token"].(string))
	if claims["scope"] != "api-keys:read charges:read" {
		t.Fatalf("scope claim %v", claims["scope"])
	}
	// The narrowed token cannot do what api-keys:write allows.
	got := apitest.CreateKeyWith(t, apitest.App(), m, r.Body["access_token"].(string))
	if got.Status != 403 || !slices.Equal(apitest.ErrorsOf(got), []string{"Insufficient scope for this operation."}) {
		t.Fatalf("%d %s", got.Status, got.Raw)
	}
	// An empty scope parameter is an omitted one.
	body = url.Values{"grant_type": {"client_credentials"}, "scope": {""}}.Encode()
	apitest.AssertOAuth200(t, apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret)), body), strings.Join(m.Scopes, " "))
}

// TestOAuthStockClient proves golang.org/x/oauth2/clientcredentials works
// unmodified, with both ways of sending the client's credentials.
func TestOAuthStockClient(t *testing.T) {
	srv := apitest.Server(t, apitest.Deps(nil).All())
	m := apitest.NewMerchant(t)
	for name, style := range map[string]oauth2.AuthStyle{"in params": oauth2.AuthStyleInParams, "in header": oauth2.AuthStyleInHeader} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			cfg := clientcredentials.Config{
				ClientID:     m.AppKey,
				ClientSecret: m.AppSecret,
				TokenURL:     srv.URL + "/v1/oauth2/token",
				Scopes:       []string{"api-keys:write"},
				AuthStyle:    style,
			}
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.TokenType != "Bearer" || !strings.HasPrefix(tok.RefreshToken, "rt_") {
				t.Fatalf("token %+v", tok)
			}
			if left := time.Until(tok.Expiry); left < 590*time.Second || left > 601*time.Second {
				t.Fatalf("expiry in %v", left)
			}
			if tok.Extra("scope") != "api-keys:write" {
				t.Fatalf("scope %v", tok.Extra("scope"))
			}
			// The library's own HTTP client carries the token to a protected route.
			res, err := cfg.Client(ctx).Post(srv.URL+"/v1/api-keys", "application/json",
				strings.NewReader(`{"mid":"`+m.MID+`","name":"from the stock client","type":"public"}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("create with the stock client: %d", res.StatusCode)
			}
			// A wrong secret comes back as the library's typed error.
			cfg.ClientSecret = apitest.NewMerchant(t).AppSecret
			_, err = cfg.Token(ctx)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 ||
				re.ErrorDescription != "Client authentication failed." {
				t.Fatalf("err = %#v", err)
			}
		})
	}
}
