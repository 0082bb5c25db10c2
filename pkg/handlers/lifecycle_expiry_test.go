package handlers_test

import (
	"testing"
	"time"
)

func TestLifecycleExpiredKeysCannotAuthenticateAndShowExpired(t *testing.T) {
	clk, h, m, tok := clockedMerchant(t)
	expires := clk.Now().Add(time.Hour).Format(time.RFC3339)
	sec := mustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"temp","type":"secret","scopes":["charges:read"],"expires_at":"`+expires+`"}`)
	pub := mustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"temp","type":"public","expires_at":"`+expires+`"}`)
	if str(sec, "expires_at") != expires || str(pub, "expires_at") != expires {
		t.Fatalf("created %s %s", sec.Raw, pub.Raw)
	}

	clk.Advance(time.Hour - time.Second)
	assertPair(t, h, m.AppKey, str(sec, "value"), true)
	assertPair(t, h, str(pub, "value"), m.AppSecret, true)

	clk.Advance(time.Second) // expires_at: no longer valid
	assertPair(t, h, m.AppKey, str(sec, "value"), false)
	assertPair(t, h, str(pub, "value"), m.AppSecret, false)
	assertPair(t, h, m.AppKey, m.AppSecret, true) // the merchant's other keys are fine

	tok = tokenOn(t, h, m) // the first token has expired by now too
	for _, id := range []string{str(sec, "id"), str(pub, "id")} {
		r := do(t, h, "GET", "/v1/api-keys/"+id, bearer(tok), "")
		if r.Status != 200 || str(r, "status") != "expired" || str(r, "expires_at") != expires {
			t.Fatalf("get: %d %s", r.Status, r.Raw)
		}
	}
	// Listed by default (expired is not deleted), as expired.
	r := do(t, h, "GET", "/v1/api-keys?mid="+m.MID, bearer(tok), "")
	statuses := map[string]string{}
	for _, k := range r.Body["keys"].([]any) {
		obj := k.(map[string]any)
		statuses[obj["id"].(string)] = obj["status"].(string)
	}
	if len(statuses) != 4 || statuses[str(sec, "id")] != "expired" || statuses[str(pub, "id")] != "expired" || statuses[m.SecretKeyID] != "active" {
		t.Fatalf("listed statuses %v", statuses)
	}
	// An expired key cannot be rolled back to life.
	r = do(t, h, "POST", "/v1/api-keys/"+str(sec, "id")+"/roll", bearer(tok), "")
	if r.Status != 409 || r.Raw != `{"errors":["The API key has expired."]}`+"\n" {
		t.Fatalf("roll: %d %s", r.Status, r.Raw)
	}
}
