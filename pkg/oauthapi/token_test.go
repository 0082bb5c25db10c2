package oauthapi_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
)

func TestToken200UpstreamShape(t *testing.T) {
	m := apitest.NewMerchant(t)
	before := time.Now()
	for _, body := range []string{
		`{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`,
		`{"appKey":"` + m.AppKey + `","appSecret":"` + m.AppSecret + `"}`,
		`{"APPKEY":"` + m.AppKey + `","appsecret":"` + m.AppSecret + `"}`,
	} {
		r := apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.JSONCT, body)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", body, r.Status, r.Raw)
		}
		if r.Body["success"] != true || len(apitest.ErrorsOf(r)) != 0 || r.Body["id"] != m.PublicKeyID {
			t.Fatalf("body %s", r.Raw)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control = %q", r.Header.Get("Cache-Control"))
		}
		exp := int64(r.Body["expires"].(float64))
		if lo, hi := before.Add(599*time.Second).UnixMilli(), time.Now().Add(601*time.Second).UnixMilli(); exp < lo || exp > hi {
			t.Fatalf("expires %d not ~600 s ahead in ms", exp)
		}
		if rt, _ := r.Body["refreshToken"].(string); !strings.HasPrefix(rt, "rt_") || len(rt) < 40 {
			t.Fatalf("refreshToken %q", rt)
		}
		header, claims := apitest.DecodeJWT(t, r.Body["accessToken"].(string))
		if header["alg"] != "ES256" || header["typ"] != "at+jwt" || header["kid"] != apitest.Env().Config.SigningKeyID {
			t.Fatalf("header %v", header)
		}
		if claims["iss"] != apitest.Env().Config.Issuer || claims["sub"] != m.SecretKeyID || claims["client_id"] != m.PublicKeyID ||
			claims["mid"] != m.MID || claims["jti"] == "" {
			t.Fatalf("claims %v", claims)
		}
		if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != apitest.Env().Config.Audience {
			t.Fatalf("aud %v", claims["aud"])
		}
		if int64(claims["exp"].(float64))*1000 != exp || claims["exp"].(float64)-claims["iat"].(float64) != 600 || claims["nbf"] != claims["iat"] {
			t.Fatalf("times exp=%v iat=%v nbf=%v", claims["exp"], claims["iat"], claims["nbf"])
		}
		if !slices.Equal(strings.Fields(claims["scope"].(string)), m.Scopes) {
			t.Fatalf("scope %q, want %q", claims["scope"], m.Scopes)
		}
	}
}

func TestToken400EveryCauseSameAnswer(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	flip := func(v string) string { // a typo: the checksum no longer matches
		b := []byte(v)
		b[12] ^= 1
		return string(b)
	}
	// Well-formed values that were never issued: valid checksum, unknown digest.
	unknownSecret, _ := apikey.NewValue(apikey.Secret, apikey.Sandbox)
	unknownPublic, _ := apikey.NewValue(apikey.Public, apikey.Sandbox)
	cases := map[string]string{
		"no body members":         `{}`,
		"missing secret":          `{"AppKey":"` + m.AppKey + `"}`,
		"wrong secret":            `{"AppKey":"` + m.AppKey + `","AppSecret":"` + other.AppSecret + `"}`,
		"typo in secret":          `{"AppKey":"` + m.AppKey + `","AppSecret":"` + flip(m.AppSecret) + `"}`,
		"swapped":                 `{"AppKey":"` + m.AppSecret + `","AppSecret":"` + m.AppKey + `"}`,
		"secret as both":          `{"AppKey":"` + m.AppSecret + `","AppSecret":"` + m.AppSecret + `"}`,
		"public key of other mid": `{"AppKey":"` + other.AppKey + `","AppSecret":"` + m.AppSecret + `"}`,
		"other stage":             `{"AppKey":"` + strings.Replace(m.AppKey, "_test_", "_live_", 1) + `","AppSecret":"` + strings.Replace(m.AppSecret, "_test_", "_live_", 1) + `"}`,
		"unknown secret":          `{"AppKey":"` + m.AppKey + `","AppSecret":"` + unknownSecret + `"}`,
		"unknown public key":      `{"AppKey":"` + unknownPublic + `","AppSecret":"` + m.AppSecret + `"}`,
		"not strings":             `{"AppKey":1,"AppSecret":true}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			r := apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.JSONCT, body)
			if r.Status != 400 || r.Raw != `{"success":false,"errors":["Invalid AppKey or AppSecret."]}`+"\n" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("no Cache-Control: no-store on a token failure")
			}
		})
	}
}

func TestToken400Malformed(t *testing.T) {
	for _, body := range []string{`{`, `[]`, `"x"`, `{"AppKey":"a"} {}`, ``} {
		r := apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.JSONCT, body)
		if r.Status != 400 || r.Raw != `{"success":false,"errors":["Malformed JSON body."]}`+"\n" {
			t.Fatalf("%q: %d %s", body, r.Status, r.Raw)
		}
	}
}

func TestToken413(t *testing.T) {
	r := apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.JSONCT, `{"AppKey":"`+strings.Repeat("a", 17<<10)+`"}`)
	if r.Status != 413 || !slices.Equal(apitest.ErrorsOf(r), []string{"Request body too large."}) || r.Body["success"] != false {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}

func TestToken405(t *testing.T) {
	r := apitest.Do(t, apitest.App(), "GET", "/v1/oauth2/token", nil, "")
	if r.Status != 405 || r.Header.Get("Allow") != "POST" || !slices.Equal(apitest.ErrorsOf(r), []string{"Method not allowed."}) {
		t.Fatalf("%d %v %s", r.Status, r.Header, r.Raw)
	}
}

// decodeJWT returns a token's header and claims without verifying it.
