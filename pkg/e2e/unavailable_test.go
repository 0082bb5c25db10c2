package e2e_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/config"
)

// TestDependencyDown503: with DynamoDB unreachable, the routes answer 503
// with Retry-After and the contract's body, and say nothing about the cause.
func TestDependencyDown503(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	h := dynamoDBDown(t)

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

// dynamoDBDown serves every route on the emulators' stage with DynamoDB
// unreachable (KMS stays up).
func dynamoDBDown(t *testing.T) http.Handler {
	t.Helper()
	// A port that nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	d := apitest.Deps(nil)
	d.Config.DynamoDBEndpoint = dead
	clients, err := config.NewClients(context.Background(), d.Config)
	if err != nil {
		t.Fatal(err)
	}
	d.Clients.DynamoDB = clients.DynamoDB
	return d.All()
}
