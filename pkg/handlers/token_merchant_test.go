package handlers_test

import (
	"context"
	"testing"

	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/token"
)

// TestSignedTokenWithAnotherMerchantsMidIsRefused: the verifier used to
// trust mid without checking it against sub. A correctly signed token with
// one merchant's keys and another merchant's mid listed the other
// merchant's keys; the key records now vouch for mid.
func TestSignedTokenWithAnotherMerchantsMidIsRefused(t *testing.T) {
	m, victim := newMerchant(t), newMerchant(t)
	sign := func(mid string) string {
		t.Helper()
		tok, err := (&token.Issuer{
			Signer: &awskms.Signer{Client: env.Clients.KMS, KeyARN: env.Config.SigningKeyID}, Issuer: env.Config.Issuer, Audience: env.Config.Audience,
		}).Issue(context.Background(), token.Subject{SecretKeyID: m.SecretKeyID, PublicKeyID: m.PublicKeyID, SecretGen: 1, PublicGen: 1, MID: mid, Scopes: "api-keys:read"})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	// The same forge with the keys' own merchant is accepted: the harness
	// signs real tokens.
	if r := do(t, app(), "GET", "/v1/api-keys?mid="+m.MID, bearer(sign(m.MID)), ""); r.Status != 200 {
		t.Fatalf("control: %d %s", r.Status, r.Raw)
	}
	r := do(t, app(), "GET", "/v1/api-keys?mid="+victim.MID, bearer(sign(victim.MID)), "")
	if r.Status != 401 || r.Raw != want401 || r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
