package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// These tests join the two halves of revocation through the real routes:
// DELETE and roll and the status cache and refresh checks that
// make them reach tokens already issued.

// readerKey is a stack whose containers trust a key's status for only
// 100 ms, a merchant on it, that merchant's admin token and a second secret
// key (api-keys:read only) whose fate the test decides.
func readerKey(t *testing.T) (h http.Handler, m apitest.Merchant, admin string, key apitest.Response) {
	t.Helper()
	d := apitest.Deps(nil)
	d.StatusTTL = 100 * time.Millisecond
	h = d.All()
	m = apitest.NewMerchant(t)
	admin = apitest.TokenOn(t, h, m)
	key = apitest.MustCreateKey(t, h, admin, `{"mid":"`+m.MID+`","name":"reader","type":"secret","scopes":["api-keys:read"]}`)
	return h, m, admin, key
}

func TestDeleteThroughTheAPIStopsTokensAndRefresh(t *testing.T) {
	h, m, admin, sec := readerKey(t)
	first := apitest.ExchangeOn(t, h, m.AppKey, apitest.Str(sec, "value"))
	victimToken, refresh := apitest.Str(first, "accessToken"), apitest.Str(first, "refreshToken")

	if r := apitest.Do(t, h, "GET", "/v1/api-keys/"+apitest.Str(sec, "id"), apitest.Bearer(victimToken), ""); r.Status != 200 {
		t.Fatalf("before delete: %d %s", r.Status, r.Raw)
	}
	r := apitest.Do(t, h, "DELETE", "/v1/api-keys/"+apitest.Str(sec, "id"), apitest.Bearer(admin), "")
	if r.Status != 200 || r.Body["result"] != "API key deleted successfully." {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	// The key can no longer mint tokens, at once.
	if r := apitest.ExchangeOn(t, h, m.AppKey, apitest.Str(sec, "value")); r.Status != 400 || apitest.ErrorsOf(r)[0] != "Invalid AppKey or AppSecret." {
		t.Fatalf("exchange after delete: %d %s", r.Status, r.Raw)
	}
	// Its refresh token dies at once.
	r = apitest.Do(t, h, "POST", "/v1/oauth2/token", apitest.JSONCT, `{"RefreshToken":"`+refresh+`"}`)
	if r.Status != 400 || r.Body["success"] != false {
		t.Fatalf("refresh after delete: %d %s", r.Status, r.Raw)
	}
	// Its access token stops once the cached status is older than the TTL.
	time.Sleep(150 * time.Millisecond)
	assert401(t, apitest.Do(t, h, "GET", "/v1/api-keys/"+apitest.Str(sec, "id"), apitest.Bearer(victimToken), ""))
	// The admin's token is untouched.
	if r := apitest.Do(t, h, "GET", "/v1/api-keys/"+apitest.Str(sec, "id"), apitest.Bearer(admin), ""); r.Status != 200 || r.Body["status"] != "revoked" {
		t.Fatalf("admin after delete: %d %s", r.Status, r.Raw)
	}
}

func TestRollThroughTheAPIEndsOldTokens(t *testing.T) {
	h, m, admin, sec := readerKey(t)
	old := apitest.Str(apitest.ExchangeOn(t, h, m.AppKey, apitest.Str(sec, "value")), "accessToken")
	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds: roll in a later second

	r := apitest.Do(t, h, "POST", "/v1/api-keys/"+apitest.Str(sec, "id")+"/roll", apitest.Bearer(admin), `{"grace_seconds":0}`)
	if r.Status != 200 {
		t.Fatalf("roll: %d %s", r.Status, r.Raw)
	}
	newValue := apitest.Str(r, "value")
	if apitest.ExchangeOn(t, h, m.AppKey, apitest.Str(sec, "value")).Status != 400 {
		t.Fatal("the old value still mints tokens after a roll with no grace")
	}
	fresh := apitest.Str(apitest.ExchangeOn(t, h, m.AppKey, newValue), "accessToken")
	time.Sleep(150 * time.Millisecond)
	assert401(t, apitest.Do(t, h, "GET", "/v1/api-keys/"+apitest.Str(sec, "id"), apitest.Bearer(old), ""))
	if r := apitest.Do(t, h, "GET", "/v1/api-keys/"+apitest.Str(sec, "id"), apitest.Bearer(fresh), ""); r.Status != 200 {
		t.Fatalf("token of the new value: %d %s", r.Status, r.Raw)
	}
}

// Rolling again during a grace period ends the earlier grace at once: a
// token minted from the value before the first roll dies then, while one
// minted from the value in its grace lives on.
func TestSecondRollEndsTheEarlierGraceForTokens(t *testing.T) {
	h, m, admin, sec := readerKey(t)
	path := "/v1/api-keys/" + apitest.Str(sec, "id")
	fromV0 := apitest.Str(apitest.ExchangeOn(t, h, m.AppKey, apitest.Str(sec, "value")), "accessToken")

	time.Sleep(1100 * time.Millisecond) // whole seconds: each step in a later second
	r := apitest.Do(t, h, "POST", path+"/roll", apitest.Bearer(admin), `{"grace_seconds":3600}`)
	if r.Status != 200 {
		t.Fatalf("first roll: %d %s", r.Status, r.Raw)
	}
	v1 := apitest.Str(r, "value")
	fromV1 := apitest.Str(apitest.ExchangeOn(t, h, m.AppKey, v1), "accessToken")
	time.Sleep(150 * time.Millisecond)
	if r := apitest.Do(t, h, "GET", path, apitest.Bearer(fromV0), ""); r.Status != 200 {
		t.Fatalf("v0 token within the first grace: %d %s", r.Status, r.Raw)
	}

	time.Sleep(1000 * time.Millisecond)
	if r := apitest.Do(t, h, "POST", path+"/roll", apitest.Bearer(admin), `{"grace_seconds":3600}`); r.Status != 200 {
		t.Fatalf("second roll: %d %s", r.Status, r.Raw)
	}
	time.Sleep(150 * time.Millisecond)
	assert401(t, apitest.Do(t, h, "GET", path, apitest.Bearer(fromV0), ""))
	if r := apitest.Do(t, h, "GET", path, apitest.Bearer(fromV1), ""); r.Status != 200 {
		t.Fatalf("v1 token within the second grace: %d %s", r.Status, r.Raw)
	}
	if apitest.ExchangeOn(t, h, m.AppKey, apitest.Str(sec, "value")).Status != 400 {
		t.Fatal("v0 still mints tokens after the second roll")
	}
}
