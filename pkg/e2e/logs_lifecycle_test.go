package e2e_test

import (
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

func TestLifecycleLogsHoldNoSecretDigestOrCursor(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	key := apitest.NewIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":["charges:read"]}`
	created := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body) // replay
	id := apitest.Str(created, "id")
	rolled := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys/"+id+"/roll", apitest.Bearer(tok), `{"grace_seconds":30}`)
	page := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys?limit=1", apitest.Bearer(tok), "")
	apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
	cursor := apitest.Str(page, "next_cursor")
	if created.Status != 201 || rolled.Status != 200 || cursor == "" {
		t.Fatalf("setup: %d %d %q", created.Status, rolled.Status, cursor)
	}

	logged := apitest.Logs().String()
	for _, event := range []string{"api key creation replayed", "api key rolled", "api key deleted"} {
		if !strings.Contains(logged, event) || !strings.Contains(logged, id) {
			t.Fatalf("no %q line for %s: the log capture does not work", event, id)
		}
	}
	apitest.NotLogged(t, map[string]string{
		"cursor":                    cursor,
		"access token":              tok,
		"created value":             apitest.Str(created, "value"),
		"rolled value":              apitest.Str(rolled, "value"),
		"created value random part": apitest.Str(created, "value")[8:38],
		"rolled value random part":  apitest.Str(rolled, "value")[8:38],
	})
}
