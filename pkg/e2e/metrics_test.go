package e2e_test

import (
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/flexfactor/credplane/pkg/metrics/metricstest"
)

// lineOf returns the one metric line of the request r answered, checking
// its route and status class.
func lineOf(t *testing.T, r apitest.Response, route, class string) metricstest.Line {
	t.Helper()
	lines := metricstest.Of(t, apitest.Logs().String(), r.Header.Get("X-Request-Id"))
	if len(lines) != 1 {
		t.Fatalf("%s: %d metric lines, want one per request", route, len(lines))
	}
	l := lines[0]
	if l.Label(metrics.DimRoute) != route || l.Label(metrics.DimStatusClass) != class || l.Label(metrics.DimStage) != "sandbox" || l.Label(metrics.DimFunction) != app.AllFunctions {
		t.Fatalf("%s: %v", route, l.Members)
	}
	return l
}

// TestCredentialEventsAreCountedInTheirRequestsLine: each token and key
// event is counted, with its dimensions, in the one metric line of the
// request it happened in; the line holds no secret (apitest.Main checks
// every line captured after the tests).
func TestCredentialEventsAreCountedInTheirRequestsLine(t *testing.T) {
	m := apitest.NewMerchant(t)
	h := apitest.App()
	issued := apitest.Exchange(t, m)
	refused := apitest.ExchangeOn(t, h, m.AppKey, m.AppKey)
	tok := apitest.Str(issued, "accessToken")
	created := apitest.Do(t, h, "POST", "/v1/api-keys", apitest.Bearer(tok), `{"mid":"`+m.MID+`","name":"n","type":"secret","scopes":["charges:read"]}`)
	id := apitest.Str(created, "id")
	rolled := apitest.Do(t, h, "POST", "/v1/api-keys/"+id+"/roll", apitest.Bearer(tok), "")
	deleted := apitest.Do(t, h, "DELETE", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
	listed := apitest.Do(t, h, "GET", "/v1/api-keys", apitest.Bearer(tok), "")

	for _, c := range []struct {
		r             apitest.Response
		route, class  string
		metric        string
		dim, dimValue string
	}{
		{issued, "POST /v1/oauth2/token", "2xx", metrics.TokensIssued, metrics.DimGrantType, "client_credentials"},
		{refused, "POST /v1/oauth2/token", "4xx", metrics.TokensRefused, metrics.DimReason, "wrong_type"},
		{created, "POST /v1/api-keys", "2xx", metrics.KeysCreated, "", ""},
		{rolled, "POST /v1/api-keys/{id}/roll", "2xx", metrics.KeysRolled, "", ""},
		{deleted, "DELETE /v1/api-keys/{id}", "2xx", metrics.KeysDeleted, "", ""},
		{listed, "GET /v1/api-keys", "2xx", "", "", ""},
	} {
		l := lineOf(t, c.r, c.route, c.class)
		events := 0
		for _, name := range []string{metrics.TokensIssued, metrics.TokensRefused, metrics.KeysCreated, metrics.KeysRolled, metrics.KeysDeleted} {
			if l.Has(name) {
				events++
			}
		}
		if v, _ := l.Value(c.metric); c.metric != "" && (v != 1 || events != 1) {
			t.Errorf("%s: %s = %v among %d events: %v", c.route, c.metric, v, events, l.Members)
		}
		if c.metric == "" && events != 0 {
			t.Errorf("%s counted an event: %v", c.route, l.Members)
		}
		if c.dim != "" && l.Label(c.dim) != c.dimValue {
			t.Errorf("%s: %s = %q, want %q", c.route, c.dim, l.Label(c.dim), c.dimValue)
		}
	}
}

// TestDependencyFailuresAreCountedByService: a request that a dependency
// failed counts a dependency failure of that service in its line.
func TestDependencyFailuresAreCountedByService(t *testing.T) {
	m := apitest.NewMerchant(t)
	r := apitest.ExchangeOn(t, apitest.DynamoDBDown(t).All(), m.AppKey, m.AppSecret)
	l := lineOf(t, r, "POST /v1/oauth2/token", "5xx")
	if v, _ := l.Value(metrics.DependencyFailures); v != 1 || l.Label(metrics.DimService) != "DynamoDB" {
		t.Fatalf("%v", l.Members)
	}
}
