package e2e_test

import (
	"context"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/token"
)

// TestSignedTokenWithAnotherMerchantsMidIsRefused: the verifier used to
// trust mid without checking it against sub. A correctly signed token with
// one merchant's keys and another merchant's mid listed the other
// merchant's keys; the key records now vouch for mid.
func TestSignedTokenWithAnotherMerchantsMidIsRefused(t *testing.T) {
	m, victim := apitest.NewMerchant(t), apitest.NewMerchant(t)
	sign := func(mid string) string {
		t.Helper()
		tok, err := (&token.Issuer{
			Signer: &awskms.Signer{Client: apitest.Env().Clients.KMS, KeyARN: apitest.Env().Config.SigningKeyID}, Issuer: apitest.Env().Config.Issuer, Audience: apitest.Env().Config.Audience,
		}).Issue(context.Background(), token.Subject{SecretKeyID: m.SecretKeyID, PublicKeyID: m.PublicKeyID, SecretGen: 1, PublicGen: 1, MID: mid, Scopes: "api-keys:read"})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	// The same forge with the keys' own merchant is accepted: the harness
	// signs real tokens.
	if r := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys?mid="+m.MID, apitest.Bearer(sign(m.MID)), ""); r.Status != 200 {
		t.Fatalf("control: %d %s", r.Status, r.Raw)
	}
	r := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys?mid="+victim.MID, apitest.Bearer(sign(victim.MID)), "")
	if r.Status != 401 || r.Raw != apitest.Want401 || r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
