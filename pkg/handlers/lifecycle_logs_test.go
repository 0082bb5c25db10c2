package handlers_test

import (
	"strings"
	"testing"
)

func TestLifecycleLogsHoldNoSecretDigestOrCursor(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	key := newIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":["charges:read"]}`
	created := do(t, app(), "POST", "/v1/api-keys", withIdempotencyKey(tok, key), body)
	do(t, app(), "POST", "/v1/api-keys", withIdempotencyKey(tok, key), body) // replay
	id := str(created, "id")
	rolled := do(t, app(), "POST", "/v1/api-keys/"+id+"/roll", bearer(tok), `{"grace_seconds":30}`)
	page := do(t, app(), "GET", "/v1/api-keys?limit=1", bearer(tok), "")
	do(t, app(), "DELETE", "/v1/api-keys/"+id, bearer(tok), "")
	cursor := str(page, "next_cursor")
	if created.Status != 201 || rolled.Status != 200 || cursor == "" {
		t.Fatalf("setup: %d %d %q", created.Status, rolled.Status, cursor)
	}

	logged := logs.String()
	for _, event := range []string{"api key creation replayed", "api key rolled", "api key deleted"} {
		if !strings.Contains(logged, event) || !strings.Contains(logged, id) {
			t.Fatalf("no %q line for %s: the log capture does not work", event, id)
		}
	}
	assertNotLogged(t, map[string]string{
		"cursor":                    cursor,
		"access token":              tok,
		"created value":             str(created, "value"),
		"rolled value":              str(rolled, "value"),
		"created value random part": str(created, "value")[8:38],
		"rolled value random part":  str(rolled, "value")[8:38],
	})
}
