package oauthapi_test

import (
	"testing"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
)

// eventOf returns the log line of the request r answered that carries an
// event field, decoded.
func eventOf(t *testing.T, r apitest.Response) map[string]any {
	t.Helper()
	for _, rec := range apitest.LogLinesOf(r) {
		if rec["event"] != nil {
			return rec
		}
	}
	t.Fatalf("no event logged for request %s", r.Header.Get("X-Request-Id"))
	return nil
}

// TestTokenEventsAreLoggedWithTheirReason: every issued token is a
// token.issued line naming the key, and every refusal a token.refused line
// with its internal reason, while the answer is the same for every reason.
func TestTokenEventsAreLoggedWithTheirReason(t *testing.T) {
	m, other := apitest.NewMerchant(t), apitest.NewMerchant(t)
	ok := apitest.Exchange(t, m)
	if ev := eventOf(t, ok); ev["event"] != "token.issued" || ev["key_id"] != m.SecretKeyID || ev["client_id"] != m.PublicKeyID || ev["mid"] != m.MID {
		t.Fatalf("issued: %v", ev)
	}

	gone := apitest.NewMerchant(t)
	apitest.DeleteOn(t, apitest.App(), apitest.TokenFor(t, gone), gone.SecretKeyID)
	expired := apitest.NewMerchant(t)
	apitest.SetExpired(t, expired.SecretKeyID, expired.AppSecret)
	unknown, _ := apikey.NewValue(apikey.Secret, apikey.Sandbox)
	for _, tt := range []struct{ name, key, secret, reason string }{
		{"malformed", m.AppKey, "sk_test_nope", "malformed"},
		{"public key as the secret", m.AppKey, m.AppKey, "wrong_type"},
		{"unknown secret", m.AppKey, unknown, "unknown_key"},
		{"deleted key", gone.AppKey, gone.AppSecret, "unknown_key"},
		{"another merchant's secret", m.AppKey, other.AppSecret, "pair_mismatch"},
		{"expired key", expired.AppKey, expired.AppSecret, "expired"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.ExchangeOn(t, apitest.App(), tt.key, tt.secret)
			if r.Raw != apitest.WantInvalidPair {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if ev := eventOf(t, r); ev["event"] != "token.refused" || ev["reason"] != tt.reason || ev["error"] != "invalid_client" {
				t.Fatalf("refused: %v", ev)
			}
		})
	}

	rt := apitest.Str(ok, "refreshToken")
	apitest.RefreshJSON(t, rt)
	r := apitest.RefreshJSON(t, rt)
	if ev := eventOf(t, r); r.Raw != apitest.WantInvalidRefresh || ev["reason"] != "refresh_reused" || ev["error"] != "invalid_grant" {
		t.Fatalf("reused refresh token: %s %v", r.Raw, ev)
	}
}
