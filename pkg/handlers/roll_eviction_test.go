package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/flexfactor/credplane/pkg/auth"
)

const wantInvalidGrant = `{"error":"invalid_grant","error_description":"The refresh token is invalid, expired or revoked.","errors":["The refresh token is invalid, expired or revoked."]}` + "\n"

// secondManager creates another full-scope secret key of m through h and
// returns an access token for it: the owner who rolls a key an attacker
// holds.
func secondManager(t *testing.T, h http.Handler, m merchant, tok string) string {
	t.Helper()
	r := mustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"owner","type":"secret"}`)
	return str(mustExchangeOn(t, h, m.AppKey, str(r, "value")), "accessToken")
}

// rollOn rolls key id through h and returns the new value.
func rollOn(t *testing.T, h http.Handler, tok, id, body string) string {
	t.Helper()
	r := do(t, h, "POST", "/v1/api-keys/"+id+"/roll", bearer(tok), body)
	if r.Status != 200 {
		t.Fatalf("roll: %d %s", r.Status, r.Raw)
	}
	return str(r, "value")
}

func refreshJSONOn(t *testing.T, h http.Handler, rt string) response {
	t.Helper()
	return do(t, h, "POST", "/v1/oauth2/token", jsonCT, `{"RefreshToken":"`+rt+`"}`)
}

func refreshFormOn(t *testing.T, h http.Handler, appKey, appSecret, rt string) response {
	t.Helper()
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	return do(t, h, "POST", "/v1/oauth2/token", withHeader(formCT, "Authorization", basicAuth(appKey, appSecret)), v.Encode())
}

// TestGraceZeroRollEvictsTheSameSecond is the review's finding: tokens,
// exchanges and refresh families minted in the same second as a roll
// without grace survived it (times have whole seconds). The stack's clock
// stands still here, so everything happens in one second; every one of
// them ends with the roll (access tokens within the status-cache window).
func TestGraceZeroRollEvictsTheSameSecond(t *testing.T) {
	clk, h, m, owner := clockedMerchant(t)
	rollerTok := secondManager(t, h, m, owner)

	// What an attacker holding the secret gets, all in the roll's second.
	first := mustExchangeOn(t, h, m.AppKey, m.AppSecret)
	a1, r1 := str(first, "accessToken"), str(first, "refreshToken")
	r2 := str(do(t, h, "POST", "/v1/oauth2/token", withHeader(formCT, "Authorization", basicAuth(m.AppKey, m.AppSecret)), "grant_type=client_credentials"), "refresh_token")
	refreshed := refreshJSONOn(t, h, r1)
	if refreshed.Status != 200 {
		t.Fatalf("refresh before the roll: %d %s", refreshed.Status, refreshed.Raw)
	}
	a2, r1b := str(refreshed, "accessToken"), str(refreshed, "refreshToken")
	if r := createKeyWith(t, h, m, a1); r.Status != 201 { // the key's status is now cached
		t.Fatalf("%d %s", r.Status, r.Raw)
	}

	newValue := rollOn(t, h, rollerTok, m.SecretKeyID, "")

	if r := exchangeOn(t, h, m.AppKey, m.AppSecret); r.Raw != `{"success":false,"errors":["Invalid AppKey or AppSecret."]}`+"\n" {
		t.Fatalf("old value after the roll: %d %s", r.Status, r.Raw)
	}
	if r := refreshJSONOn(t, h, r1b); r.Raw != wantInvalidRefresh {
		t.Fatalf("refresh family of the old value: %d %s", r.Status, r.Raw)
	}
	// The family belongs to the same key ids, but to the old value.
	if r := refreshFormOn(t, h, m.AppKey, newValue, r2); r.Raw != wantInvalidGrant {
		t.Fatalf("old family with the new value: %d %s", r.Status, r.Raw)
	}
	clk.Advance(auth.StatusTTL)
	for name, tok := range map[string]string{"exchanged": a1, "refreshed": a2} {
		if r := createKeyWith(t, h, m, tok); r.Status != 401 || r.Raw != want401 {
			t.Fatalf("%s access token of the old value: %d %s", name, r.Status, r.Raw)
		}
	}
	// The new value works.
	if r := createKeyWith(t, h, m, str(mustExchangeOn(t, h, m.AppKey, newValue), "accessToken")); r.Status != 201 {
		t.Fatalf("new value: %d %s", r.Status, r.Raw)
	}
}

// TestSecondRollEndsTheFirstValue: after two rolls, each with a grace
// period, the first value's refresh tokens and access tokens are dead even
// though the second grace still runs; the second value's live on.
func TestSecondRollEndsTheFirstValue(t *testing.T) {
	clk, h, m, owner := clockedMerchant(t)
	rollerTok := secondManager(t, h, m, owner)
	grace := `{"grace_seconds":3600}`

	value1 := m.AppSecret
	value2 := rollOn(t, h, rollerTok, m.SecretKeyID, grace)
	old := mustExchangeOn(t, h, m.AppKey, value1) // in the first grace
	mid := mustExchangeOn(t, h, m.AppKey, value2)
	clk.Advance(auth.StatusTTL) // a later second, and a cold status cache
	value3 := rollOn(t, h, rollerTok, m.SecretKeyID, grace)

	if r := refreshJSONOn(t, h, str(old, "refreshToken")); r.Raw != wantInvalidRefresh {
		t.Fatalf("first value's family after two rolls: %d %s", r.Status, r.Raw)
	}
	if r := exchangeOn(t, h, m.AppKey, value1); r.Status != 400 {
		t.Fatalf("first value after two rolls: %d %s", r.Status, r.Raw)
	}
	if r := createKeyWith(t, h, m, str(old, "accessToken")); r.Status != 401 {
		t.Fatalf("first value's access token: %d %s", r.Status, r.Raw)
	}
	if r := refreshJSONOn(t, h, str(mid, "refreshToken")); r.Status != 200 {
		t.Fatalf("second value's family in the second grace: %d %s", r.Status, r.Raw)
	}
	mustExchangeOn(t, h, m.AppKey, value2)
	mustExchangeOn(t, h, m.AppKey, value3)
}

// TestRefreshFamilyEndsADayAfterTheExchange: refreshing does not extend a
// family, in either shape.
func TestRefreshFamilyEndsADayAfterTheExchange(t *testing.T) {
	clk, h, m, _ := clockedMerchant(t)
	jsonRT := str(mustExchangeOn(t, h, m.AppKey, m.AppSecret), "refreshToken")
	formRT := str(do(t, h, "POST", "/v1/oauth2/token", withHeader(formCT, "Authorization", basicAuth(m.AppKey, m.AppSecret)), "grant_type=client_credentials"), "refresh_token")
	for range 2 {
		clk.Advance(auth.RefreshTTL / 3)
		r := refreshJSONOn(t, h, jsonRT)
		f := refreshFormOn(t, h, m.AppKey, m.AppSecret, formRT)
		if r.Status != 200 || f.Status != 200 {
			t.Fatalf("refresh within the day: %d %s / %d %s", r.Status, r.Raw, f.Status, f.Raw)
		}
		jsonRT, formRT = str(r, "refreshToken"), str(f, "refresh_token")
	}
	clk.Advance(auth.RefreshTTL / 3)
	if r := refreshJSONOn(t, h, jsonRT); r.Raw != wantInvalidRefresh {
		t.Fatalf("a day after the exchange (JSON): %d %s", r.Status, r.Raw)
	}
	if r := refreshFormOn(t, h, m.AppKey, m.AppSecret, formRT); r.Raw != wantInvalidGrant {
		t.Fatalf("a day after the exchange (form): %d %s", r.Status, r.Raw)
	}
}
