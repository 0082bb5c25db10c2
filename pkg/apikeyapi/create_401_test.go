package apikeyapi_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/token"
	"github.com/golang-jwt/jwt/v5"
)

func TestCreate401(t *testing.T) {
	m := apitest.NewMerchant(t)
	good := apitest.TokenFor(t, m)
	header, claims := apitest.DecodeJWT(t, good)
	parts := strings.Split(good, ".")
	enc := func(v map[string]any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}

	// Tampered: another merchant's id in the claims, original signature.
	tamperedClaims := maps.Clone(claims)
	tamperedClaims["mid"] = "mid_victim"
	tampered := parts[0] + "." + enc(tamperedClaims) + "." + parts[2]

	// alg none, with and without a signature.
	noneHeader := map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}
	algNone := enc(noneHeader) + "." + parts[1] + "."

	// HS256 "signed" with the public key (the classic key-confusion attack).
	pub, err := apitest.Env().Clients.KMS.GetPublicKey(context.Background(), &kms.GetPublicKeyInput{KeyId: aws.String(apitest.Env().Config.SigningKeyID)})
	if err != nil {
		t.Fatal(err)
	}
	var hsTokens []string
	for _, key := range [][]byte{pub.PublicKey, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub.PublicKey})} {
		hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
		hs.Header["typ"], hs.Header["kid"] = "at+jwt", header["kid"]
		s, err := hs.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		hsTokens = append(hsTokens, s)
	}
	if _, err := x509.ParsePKIXPublicKey(pub.PublicKey); err != nil {
		t.Fatal(err)
	}

	// Expired: minted 11 minutes ago through the same stack.
	past := func() time.Time { return time.Now().Add(-11 * time.Minute) }
	r := apitest.Do(t, apitest.Deps(past).All(), "POST", "/v1/oauth2/token", apitest.JSONCT, `{"AppKey":"`+m.AppKey+`","AppSecret":"`+m.AppSecret+`"}`)
	expired := r.Body["accessToken"].(string)
	// Not yet valid: minted for 5 minutes from now.
	future := func() time.Time { return time.Now().Add(5 * time.Minute) }
	r = apitest.Do(t, apitest.Deps(future).All(), "POST", "/v1/oauth2/token", apitest.JSONCT, `{"AppKey":"`+m.AppKey+`","AppSecret":"`+m.AppSecret+`"}`)
	notYet := r.Body["accessToken"].(string)

	// Another stage's issuer and audience, signed by the same KMS key.
	signer := &awskms.Signer{Client: apitest.Env().Clients.KMS, KeyARN: apitest.Env().Config.SigningKeyID}
	subject := token.Subject{SecretKeyID: m.SecretKeyID, PublicKeyID: m.PublicKeyID, MID: m.MID, Scopes: "api-keys:write"}
	otherStage, err := (&token.Issuer{Signer: signer, Issuer: "https://api.flex-charge.com", Audience: "https://api.flex-charge.com/v1"}).Issue(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	wrongAud, _ := (&token.Issuer{Signer: signer, Issuer: apitest.Env().Config.Issuer, Audience: "https://elsewhere/v1"}).Issue(context.Background(), subject)

	// Another ES256 key that is not ours.
	foreignKey, err := apitest.Env().CreateSigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := (&token.Issuer{Signer: &awskms.Signer{Client: apitest.Env().Clients.KMS, KeyARN: foreignKey}, Issuer: apitest.Env().Config.Issuer, Audience: apitest.Env().Config.Audience}).Issue(context.Background(), subject)

	// Right key, but claiming another kid or no typ.
	wrongKid := map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": foreignKey}

	body := `{"mid":"` + m.MID + `","name":"n","type":"public"}`
	cases := map[string]string{
		"no header":         "",
		"empty bearer":      "Bearer ",
		"basic scheme":      "Basic " + base64.StdEncoding.EncodeToString([]byte(m.AppKey+":"+m.AppSecret)),
		"token only":        good,
		"garbage":           "Bearer not.a.jwt",
		"random text":       "Bearer hello",
		"two tokens":        "Bearer " + good + " " + good,
		"tampered claims":   "Bearer " + tampered,
		"alg none":          "Bearer " + algNone,
		"alg none signed":   "Bearer " + algNone + parts[2],
		"HS256 public DER":  "Bearer " + hsTokens[0],
		"HS256 public PEM":  "Bearer " + hsTokens[1],
		"expired":           "Bearer " + expired,
		"not yet valid":     "Bearer " + notYet,
		"other stage":       "Bearer " + otherStage.Token,
		"wrong audience":    "Bearer " + wrongAud.Token,
		"foreign key":       "Bearer " + foreign.Token,
		"kid swapped":       "Bearer " + enc(wrongKid) + "." + parts[1] + "." + parts[2],
		"truncated":         "Bearer " + good[:len(good)-10],
		"signature removed": "Bearer " + parts[0] + "." + parts[1] + ".",
	}
	for name, auth := range cases {
		t.Run(name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/json"}
			if auth != "" {
				h["Authorization"] = auth
			}
			r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", h, body)
			if r.Status != 401 || r.Raw != apitest.Want401 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if got := r.Header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
				t.Fatalf("WWW-Authenticate %q", got)
			}
		})
	}
	apitest.AssertKeyCount(t, m, 2)

	// The scheme is case-insensitive: all of these work.
	for _, scheme := range []string{"bearer", "Bearer", "BEARER"} {
		r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", map[string]string{"Content-Type": "application/json", "Authorization": scheme + " " + good}, body)
		if r.Status != 201 {
			t.Fatalf("%s: %d %s", scheme, r.Status, r.Raw)
		}
	}
}
