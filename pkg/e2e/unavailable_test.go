package e2e_test

import (
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// TestDependencyDown503: with DynamoDB unreachable, the routes answer 503
// with Retry-After and the contract's body, and say nothing about the cause.
func TestDependencyDown503(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	h := apitest.DynamoDBDown(t).All()

	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/v1/oauth2/token", `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`},
		{"POST", "/v1/api-keys", `{"mid":"` + m.MID + `","name":"n","type":"public"}`},
		{"GET", "/v1/api-keys/" + m.SecretKeyID, ""},
	} {
		r := apitest.Do(t, h, tc.method, tc.path, apitest.Bearer(tok), tc.body)
		if r.Status != 503 || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Raw, `"errors":["Service temporarily unavailable."]`) {
			t.Fatalf("%s %s: %d %v %s", tc.method, tc.path, r.Status, r.Header, r.Raw)
		}
		if strings.Contains(r.Raw, "127.0.0.1") || strings.Contains(r.Raw, "dial") {
			t.Fatalf("%s %s: the body leaks the cause: %s", tc.method, tc.path, r.Raw)
		}
	}
}
