package apikeyapi_test

import (
	"slices"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/scope"
)

// TestIdempotencyKeysBelongToTheCallingKey: caller
// B (api-keys:write only) sent caller A's Idempotency-Key and body and got
// A's full-scope secret back. Now B's request is its own: a new key,
// within B's scopes, and never A's value.
func TestIdempotencyKeysBelongToTheCallingKey(t *testing.T) {
	m := apitest.NewMerchant(t)
	a := apitest.TokenFor(t, m)
	b, _ := apitest.NarrowPair(t, apitest.App(), m, a, "api-keys:write")
	key := apitest.NewIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"secret"}`

	first := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(a, key), body)
	if first.Status != 201 || !slices.Equal(scopesOf(first), scope.All()) {
		t.Fatalf("A: %d %s", first.Status, first.Raw)
	}
	other := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(b, key), body)
	if other.Status != 201 || other.Header.Get("Idempotent-Replayed") != "" || apitest.Str(other, "value") == apitest.Str(first, "value") || apitest.Str(other, "id") == apitest.Str(first, "id") ||
		!slices.Equal(scopesOf(other), []string{"api-keys:write"}) {
		t.Fatalf("B with A's idempotency key: %d %s", other.Status, other.Raw)
	}
	apitest.AssertKeyCount(t, m, 5) // the pair, B's key, A's and B's creations

	// A's own retry, with the scopes its first request defaulted to written
	// out, is the same request: the body is compared after defaults.
	explicit := `{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":` + apitest.JSON(scope.All()) + `}`
	again := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(a, key), explicit)
	if again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" || again.Raw != first.Raw {
		t.Fatalf("A's replay: %d %s", again.Status, again.Raw)
	}
}

// TestIdempotentReplayOfADeletedKey: once the key a request created is
// deleted, a replay shows no value: 409, and nothing is created.
func TestIdempotentReplayOfADeletedKey(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	key := apitest.NewIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":["charges:read"]}`
	first := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	if r := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+apitest.Str(first, "id"), apitest.Bearer(tok), ""); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	if r.Status != 409 || r.Raw != apitest.FailedCreation("The key this request created has changed since.") || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	apitest.AssertKeyCount(t, m, 3)
}

func scopesOf(r apitest.Response) []string {
	var out []string
	for _, s := range r.Body["scopes"].([]any) {
		out = append(out, s.(string))
	}
	return out
}
