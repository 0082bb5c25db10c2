package handlers_test

import (
	"context"
	"slices"
	"strings"
	"testing"

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
