package handlers_test

import (
	"slices"
	"testing"

	"github.com/flexfactor/credplane/pkg/scope"
)

// TestIdempotencyKeysBelongToTheCallingKey is the review's replay: caller
// B (api-keys:write only) sent caller A's Idempotency-Key and body and got
// A's full-scope secret back. Now B's request is its own: a new key,
// within B's scopes, and never A's value.
func TestIdempotencyKeysBelongToTheCallingKey(t *testing.T) {
	m := newMerchant(t)
	a := tokenFor(t, m)
	b, _ := narrowPair(t, app(), m, a, "api-keys:write")
	key := newIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"secret"}`

	first := do(t, app(), "POST", "/v1/api-keys", withIdempotencyKey(a, key), body)
	if first.Status != 201 || !slices.Equal(scopesOf(first), scope.All()) {
		t.Fatalf("A: %d %s", first.Status, first.Raw)
	}
	other := do(t, app(), "POST", "/v1/api-keys", withIdempotencyKey(b, key), body)
	if other.Status != 201 || other.Header.Get("Idempotent-Replayed") != "" ||
		str(other, "value") == str(first, "value") || str(other, "id") == str(first, "id") ||
		!slices.Equal(scopesOf(other), []string{"api-keys:write"}) {
		t.Fatalf("B with A's idempotency key: %d %s", other.Status, other.Raw)
	}
	assertKeyCount(t, m, 5) // the pair, B's key, A's and B's creations

	// A's own retry, with the scopes its first request defaulted to written
	// out, is the same request: the body is compared after defaults.
	explicit := `{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":` + jsonList(scope.All()) + `}`
	again := do(t, app(), "POST", "/v1/api-keys", withIdempotencyKey(a, key), explicit)
	if again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" || again.Raw != first.Raw {
		t.Fatalf("A's replay: %d %s", again.Status, again.Raw)
	}
}

// TestIdempotentReplayOfADeletedKey: once the key a request created is
// deleted, a replay shows no value: 409, and nothing is created.
func TestIdempotentReplayOfADeletedKey(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	key := newIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":["charges:read"]}`
	first := do(t, app(), "POST", "/v1/api-keys", withIdempotencyKey(tok, key), body)
	if r := do(t, app(), "DELETE", "/v1/api-keys/"+str(first, "id"), bearer(tok), ""); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	r := do(t, app(), "POST", "/v1/api-keys", withIdempotencyKey(tok, key), body)
	if r.Status != 409 || r.Raw != failedCreation("The key this request created has changed since.") || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	assertKeyCount(t, m, 3)
}

func scopesOf(r response) []string {
	var out []string
	for _, s := range r.Body["scopes"].([]any) {
		out = append(out, s.(string))
	}
	return out
}

func jsonList(v []string) string {
	b, _ := jsonMarshal(v)
	return string(b)
}
