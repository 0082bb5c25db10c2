package e2e_test

import (
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/auth"
)

// secondManager creates another full-scope secret key of m through h and
// returns an access token for it: the owner who rolls a key an attacker
// holds.

// rollOn rolls key id through h and returns the new value.

// TestGraceZeroRollEvictsTheSameSecond: tokens,
// exchanges and refresh families minted in the same second as a roll
// without grace survived it (times have whole seconds). The stack's clock
// stands still here, so everything happens in one second; every one of
// them ends with the roll (access tokens within the status-cache window).
func TestGraceZeroRollEvictsTheSameSecond(t *testing.T) {
	clk, h, m, owner := apitest.ClockedMerchant(t)
	rollerTok := apitest.SecondManager(t, h, m, owner)

	// What an attacker holding the secret gets, all in the roll's second.
	first := apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret)
	a1, r1 := apitest.Str(first, "accessToken"), apitest.Str(first, "refreshToken")
	r2 := apitest.Str(apitest.Do(t, h, "POST", "/v1/oauth2/token", apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret)), "grant_type=client_credentials"), "refresh_token")
	refreshed := apitest.RefreshJSONOn(t, h, r1)
	if refreshed.Status != 200 {
		t.Fatalf("refresh before the roll: %d %s", refreshed.Status, refreshed.Raw)
	}
	a2, r1b := apitest.Str(refreshed, "accessToken"), apitest.Str(refreshed, "refreshToken")
	if r := apitest.CreateKeyWith(t, h, m, a1); r.Status != 201 { // the key's status is now cached
		t.Fatalf("%d %s", r.Status, r.Raw)
	}

	newValue := apitest.RollOn(t, h, rollerTok, m.SecretKeyID, "")

	if r := apitest.ExchangeOn(t, h, m.AppKey, m.AppSecret); r.Raw != `{"success":false,"errors":["Invalid AppKey or AppSecret."]}`+"\n" {
		t.Fatalf("old value after the roll: %d %s", r.Status, r.Raw)
	}
	if r := apitest.RefreshJSONOn(t, h, r1b); r.Raw != apitest.WantInvalidRefresh {
		t.Fatalf("refresh family of the old value: %d %s", r.Status, r.Raw)
	}
	// The family belongs to the same key ids, but to the old value.
	if r := apitest.RefreshFormOn(t, h, m.AppKey, newValue, r2); r.Raw != apitest.WantInvalidGrant {
		t.Fatalf("old family with the new value: %d %s", r.Status, r.Raw)
	}
	clk.Advance(auth.StatusTTL)
	for name, tok := range map[string]string{"exchanged": a1, "refreshed": a2} {
		if r := apitest.CreateKeyWith(t, h, m, tok); r.Status != 401 || r.Raw != apitest.Want401 {
			t.Fatalf("%s access token of the old value: %d %s", name, r.Status, r.Raw)
		}
	}
	// The new value works.
	if r := apitest.CreateKeyWith(t, h, m, apitest.Str(apitest.MustExchangeOn(t, h, m.AppKey, newValue), "accessToken")); r.Status != 201 {
		t.Fatalf("new value: %d %s", r.Status, r.Raw)
	}
}

// TestSecondRollEndsTheFirstValue: after two rolls, each with a grace
// period, the first value's refresh tokens and access tokens are dead even
// though the second grace still runs; the second value's live on.
func TestSecondRollEndsTheFirstValue(t *testing.T) {
	clk, h, m, owner := apitest.ClockedMerchant(t)
	rollerTok := apitest.SecondManager(t, h, m, owner)
	grace := `{"grace_seconds":3600}`

	value1 := m.AppSecret
	value2 := apitest.RollOn(t, h, rollerTok, m.SecretKeyID, grace)
	old := apitest.MustExchangeOn(t, h, m.AppKey, value1) // in the first grace
	mid := apitest.MustExchangeOn(t, h, m.AppKey, value2)
	clk.Advance(auth.StatusTTL) // a later second, and a cold status cache
	value3 := apitest.RollOn(t, h, rollerTok, m.SecretKeyID, grace)

	if r := apitest.RefreshJSONOn(t, h, apitest.Str(old, "refreshToken")); r.Raw != apitest.WantInvalidRefresh {
		t.Fatalf("first value's family after two rolls: %d %s", r.Status, r.Raw)
	}
	if r := apitest.ExchangeOn(t, h, m.AppKey, value1); r.Raw != apitest.WantInvalidPair {
		t.Fatalf("first value after two rolls: %d %s", r.Status, r.Raw)
	}
	if r := apitest.CreateKeyWith(t, h, m, apitest.Str(old, "accessToken")); r.Status != 401 || r.Raw != apitest.Want401 {
		t.Fatalf("first value's access token: %d %s", r.Status, r.Raw)
	}
	if r := apitest.RefreshJSONOn(t, h, apitest.Str(mid, "refreshToken")); r.Status != 200 {
		t.Fatalf("second value's family in the second grace: %d %s", r.Status, r.Raw)
	}
	apitest.MustExchangeOn(t, h, m.AppKey, value2)
	apitest.MustExchangeOn(t, h, m.AppKey, value3)
}

// TestRefreshFamilyEndsADayAfterTheExchange: refreshing does not extend a
// family, in either shape.
func TestRefreshFamilyEndsADayAfterTheExchange(t *testing.T) {
	clk, h, m, _ := apitest.ClockedMerchant(t)
	jsonRT := apitest.Str(apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret), "refreshToken")
	formRT := apitest.Str(apitest.Do(t, h, "POST", "/v1/oauth2/token", apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret)), "grant_type=client_credentials"), "refresh_token")
	for range 2 {
		clk.Advance(auth.RefreshTTL / 3)
		r := apitest.RefreshJSONOn(t, h, jsonRT)
		f := apitest.RefreshFormOn(t, h, m.AppKey, m.AppSecret, formRT)
		if r.Status != 200 || f.Status != 200 {
			t.Fatalf("refresh within the day: %d %s / %d %s", r.Status, r.Raw, f.Status, f.Raw)
		}
		jsonRT, formRT = apitest.Str(r, "refreshToken"), apitest.Str(f, "refresh_token")
	}
	clk.Advance(auth.RefreshTTL / 3)
	if r := apitest.RefreshJSONOn(t, h, jsonRT); r.Raw != apitest.WantInvalidRefresh {
		t.Fatalf("a day after the exchange (JSON): %d %s", r.Status, r.Raw)
	}
	if r := apitest.RefreshFormOn(t, h, m.AppKey, m.AppSecret, formRT); r.Raw != apitest.WantInvalidGrant {
		t.Fatalf("a day after the exchange (form): %d %s", r.Status, r.Raw)
	}
}
