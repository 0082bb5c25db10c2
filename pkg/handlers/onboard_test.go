package handlers_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/handlers"
	"github.com/flexfactor/credplane/pkg/scope"
)

func TestOnboardIssuesAWorkingPair(t *testing.T) {
	m := newMerchant(t)
	if !strings.HasPrefix(m.AppKey, "pk_test_") || !strings.HasPrefix(m.AppSecret, "sk_test_") || !slices.Equal(m.Scopes, scope.All()) {
		t.Fatalf("%+v", m.OnboardResult)
	}
	assertKeyCount(t, m, 2)
	_, claims := decodeJWT(t, tokenFor(t, m))
	if claims["mid"] != m.MID || claims["scope"] != strings.Join(scope.All(), " ") {
		t.Fatalf("claims %v", claims)
	}
}

func TestOnboardRefusesBadInput(t *testing.T) {
	onboard := deps(nil).Onboard()
	for _, ev := range []handlers.OnboardEvent{{MID: ""}, {MID: "mid with spaces"}, {MID: "mid_ok", Name: "<b>"}} {
		res, err := onboard(context.Background(), ev)
		if err != nil || res.Success || res.AppKey != "" || res.AppSecret != "" || len(res.Errors) != 1 {
			t.Fatalf("%+v: %+v %v", ev, res, err)
		}
	}
}

func TestOnboardRefusesAMerchantThatManagesItsKeys(t *testing.T) {
	m := newMerchant(t)
	res, err := deps(nil).Onboard()(context.Background(), handlers.OnboardEvent{MID: m.MID, Name: "again"})
	if err != nil || res.Success || res.AppSecret != "" || !slices.Equal(res.Errors, []string{apikey.MsgAlreadyOnboarded}) {
		t.Fatalf("%+v %v", res, err)
	}
	assertKeyCount(t, m, 2)

	// Once its managing key is deleted, the merchant can be onboarded again
	// (a lost secret is recovered by an operator).
	tok := tokenFor(t, m)
	if r := do(t, app(), "DELETE", "/v1/api-keys/"+m.SecretKeyID, bearer(tok), ""); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	res, err = deps(nil).Onboard()(context.Background(), handlers.OnboardEvent{MID: m.MID, Name: "again"})
	if err != nil || !res.Success || res.SecretKeyID == m.SecretKeyID {
		t.Fatalf("re-onboard after the manager was deleted: %+v %v", res, err)
	}
	assertKeyCount(t, m, 4)
}
