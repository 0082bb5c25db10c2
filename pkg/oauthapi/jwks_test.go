package oauthapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/token"
	"github.com/golang-jwt/jwt/v5"
)

// jwkSet is a JWK Set as a stock verifier reads it.
type jwkSet struct {
	Keys []struct {
		Kty, Crv, X, Y, Kid, Use, Alg string
	} `json:"keys"`
}

// fetchJWKS gets the key set over real HTTP, as a verifier elsewhere would.
func fetchJWKS(t *testing.T, url string) (jwkSet, http.Header) {
	t.Helper()
	res, err := http.Get(url + "/v1/oauth2/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, raw)
	}
	var set jwkSet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	return set, res.Header
}

// keyfunc picks the JWK named by a token's kid: the only key material the
// stock library gets.
func (s jwkSet) keyfunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	for _, k := range s.Keys {
		if k.Kid != kid {
			continue
		}
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil || k.Kty != "EC" || k.Crv != "P-256" {
			return nil, errors.New("bad jwk")
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	}
	return nil, errors.New("unknown kid")
}

// verifyWithJWKS verifies a token with golang-jwt and the key set only.
func verifyWithJWKS(set jwkSet, tok string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, set.keyfunc,
		jwt.WithValidMethods([]string{"ES256"}),
		jwt.WithIssuer(apitest.Env().Config.Issuer),
		jwt.WithAudience(apitest.Env().Config.Audience),
		jwt.WithExpirationRequired())
	return claims, err
}

func TestOAuthJWKSVerifiesTokensWithAStockLibrary(t *testing.T) {
	srv := apitest.Server(t, apitest.Deps(nil).All())
	set, header := fetchJWKS(t, srv.URL)
	if got := header.Get("Cache-Control"); got != "public, max-age=300" {
		t.Fatalf("Cache-Control %q", got)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("keys %+v", set.Keys)
	}
	k := set.Keys[0]
	if k.Kty != "EC" || k.Crv != "P-256" || k.Kid != apitest.Env().Config.SigningKeyID || k.Use != "sig" || k.Alg != "ES256" || len(k.X) != 43 || len(k.Y) != 43 {
		t.Fatalf("jwk %+v", k)
	}
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	if h, _ := apitest.DecodeJWT(t, tok); h["kid"] != k.Kid {
		t.Fatalf("token kid %v, jwk kid %v", h["kid"], k.Kid)
	}
	claims, err := verifyWithJWKS(set, tok)
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != m.SecretKeyID || claims["mid"] != m.MID {
		t.Fatalf("claims %v", claims)
	}
	// The check can fail: another merchant's id in the claims breaks it.
	parts := strings.Split(tok, ".")
	forged, _ := json.Marshal(map[string]any{"iss": claims["iss"], "aud": claims["aud"], "exp": claims["exp"], "sub": claims["sub"], "mid": "mid_victim"})
	if _, err := verifyWithJWKS(set, parts[0]+"."+base64.RawURLEncoding.EncodeToString(forged)+"."+parts[2]); err == nil {
		t.Fatal("a forged token verified")
	}
	// And the document is this API's JSON, with its errors array.
	r := apitest.Do(t, apitest.App(), "GET", "/v1/oauth2/jwks", nil, "")
	if r.Status != 200 || len(apitest.ErrorsOf(r)) != 0 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	r = apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/jwks", nil, "")
	if r.Status != 405 || r.Header.Get("Allow") != "GET, HEAD" || !slices.Equal(apitest.ErrorsOf(r), []string{"Method not allowed."}) {
		t.Fatalf("%d %v %s", r.Status, r.Header, r.Raw)
	}
}

// TestOAuthJWKSRotation: during a signing-key rotation the set holds both
// keys, and tokens of either verify, with the JWKS and on protected routes.
func TestOAuthJWKSRotation(t *testing.T) {
	next, err := apitest.Env().CreateSigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d := apitest.Deps(nil)
	d.Config.VerifyKeyIDs = []string{next}
	h := d.All()
	srv := apitest.Server(t, h)
	set, _ := fetchJWKS(t, srv.URL)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	if want := []string{apitest.Env().Config.SigningKeyID, next}; !slices.Equal(kids, slices.Sorted(slices.Values(want))) {
		t.Fatalf("kids %v, want %v", kids, want)
	}
	m := apitest.NewMerchant(t)
	fromNext, err := (&token.Issuer{
		Signer: &awskms.Signer{Client: apitest.Env().Clients.KMS, KeyARN: next}, Issuer: apitest.Env().Config.Issuer, Audience: apitest.Env().Config.Audience,
	}).Issue(context.Background(), token.Subject{SecretKeyID: m.SecretKeyID, PublicKeyID: m.PublicKeyID, SecretGen: 1, PublicGen: 1, MID: m.MID, Scopes: "api-keys:write"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"current key": apitest.TokenFor(t, m), "next key": fromNext.Token} {
		if _, err := verifyWithJWKS(set, tok); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r := apitest.CreateKeyWith(t, h, m, tok); r.Status != 201 {
			t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	// Without the next key in the configuration its tokens are refused.
	if r := apitest.CreateKeyWith(t, apitest.App(), m, fromNext.Token); r.Status != 401 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
