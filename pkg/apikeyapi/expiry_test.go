package apikeyapi_test

import (
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
)

func TestLifecycleExpiredKeysCannotAuthenticateAndShowExpired(t *testing.T) {
	clk, h, m, tok := apitest.ClockedMerchant(t)
	expires := clk.Now().Add(time.Hour).Format(time.RFC3339)
	sec := apitest.MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"temp","type":"secret","scopes":["charges:read"],"expires_at":"`+expires+`"}`)
	pub := apitest.MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"temp","type":"public","expires_at":"`+expires+`"}`)
	if apitest.Str(sec, "expires_at") != expires || apitest.Str(pub, "expires_at") != expires {
		t.Fatalf("created %s %s", sec.Raw, pub.Raw)
	}

	clk.Advance(time.Hour - time.Second)
	apitest.AssertPair(t, h, m.AppKey, apitest.Str(sec, "value"), true)
	apitest.AssertPair(t, h, apitest.Str(pub, "value"), m.AppSecret, true)

	clk.Advance(time.Second)
	apitest.AssertPair( // expires_at: no longer valid
		t, h, m.AppKey, apitest.Str(sec, "value"), false)
	apitest.AssertPair(t, h, apitest.Str(pub, "value"), m.AppSecret, false)
	apitest.AssertPair(t, h, m.AppKey, m.AppSecret, true) // the merchant's other keys are fine

	tok = apitest.TokenOn(t, h, m) // the first token has expired by now too
	for _, id := range []string{apitest.Str(sec, "id"), apitest.Str(pub, "id")} {
		r := apitest.Do(t, h, "GET", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
		if r.Status != 200 || apitest.Str(r, "status") != "expired" || apitest.Str(r, "expires_at") != expires {
			t.Fatalf("get: %d %s", r.Status, r.Raw)
		}
	}
	// Listed by default (expired is not deleted), as expired.
	r := apitest.Do(t, h, "GET", "/v1/api-keys?mid="+m.MID, apitest.Bearer(tok), "")
	statuses := map[string]string{}
	for _, k := range r.Body["keys"].([]any) {
		obj := k.(map[string]any)
		statuses[obj["id"].(string)] = obj["status"].(string)
	}
	if len(statuses) != 4 || statuses[apitest.Str(sec, "id")] != "expired" || statuses[apitest.Str(pub, "id")] != "expired" || statuses[m.SecretKeyID] != "active" {
		t.Fatalf("listed statuses %v", statuses)
	}
	// An expired key cannot be rolled back to life.
	r = apitest.Do(t, h, "POST", "/v1/api-keys/"+apitest.Str(sec, "id")+"/roll", apitest.Bearer(tok), "")
	if r.Status != 409 || r.Raw != `{"errors":["The API key has expired."]}`+"\n" {
		t.Fatalf("roll: %d %s", r.Status, r.Raw)
	}
}
