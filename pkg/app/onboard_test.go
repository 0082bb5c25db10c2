package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/scope"
)

func TestOnboardIssuesAWorkingPair(t *testing.T) {
	m := apitest.NewMerchant(t)
	if !strings.HasPrefix(m.AppKey, "pk_test_") || !strings.HasPrefix(m.AppSecret, "sk_test_") || !slices.Equal(m.Scopes, scope.All()) {
		t.Fatalf("%+v", m.OnboardResult)
	}
	apitest.AssertKeyCount(t, m, 2)
	_, claims := apitest.DecodeJWT(t, apitest.TokenFor(t, m))
	if claims["mid"] != m.MID || claims["scope"] != strings.Join(scope.All(), " ") {
		t.Fatalf("claims %v", claims)
	}
}

func TestOnboardRefusesBadInput(t *testing.T) {
	onboard := apitest.Deps(nil).Onboard()
	for _, ev := range []app.OnboardEvent{{MID: ""}, {MID: "mid with spaces"}, {MID: "mid_ok", Name: "<b>"}} {
		res, err := onboard(context.Background(), ev)
		if err != nil || res.Success || res.AppKey != "" || res.AppSecret != "" || len(res.Errors) != 1 {
			t.Fatalf("%+v: %+v %v", ev, res, err)
		}
	}
}

func TestOnboardRefusesAMerchantThatManagesItsKeys(t *testing.T) {
	m := apitest.NewMerchant(t)
	res, err := apitest.Deps(nil).Onboard()(context.Background(), app.OnboardEvent{MID: m.MID, Name: "again"})
	if err != nil || res.Success || res.AppSecret != "" || !slices.Equal(res.Errors, []string{apikey.MsgAlreadyOnboarded}) {
		t.Fatalf("%+v %v", res, err)
	}
	apitest.AssertKeyCount(t, m, 2)

	// Once its managing key is deleted, the merchant can be onboarded again
	// (a lost secret is recovered by an operator).
	tok := apitest.TokenFor(t, m)
	if r := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+m.SecretKeyID, apitest.Bearer(tok), ""); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	res, err = apitest.Deps(nil).Onboard()(context.Background(), app.OnboardEvent{MID: m.MID, Name: "again"})
	if err != nil || !res.Success || res.SecretKeyID == m.SecretKeyID {
		t.Fatalf("re-onboard after the manager was deleted: %+v %v", res, err)
	}
	apitest.AssertKeyCount(t, m, 4)
}
