package apikeyapi_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/dynamostore"
	"github.com/flexfactor/credplane/pkg/scope"
)

// withIdempotencyKey returns bearer headers carrying an Idempotency-Key.

func TestLifecycleIdempotentCreateReplaysTheSameSecret(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	key := apitest.NewIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"My API Key","type":"secret","scopes":["customers:read","charges:read"]}`
	first := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	if first.Status != 201 || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %s (Idempotent-Replayed %q)", first.Status, first.Raw, first.Header.Get("Idempotent-Replayed"))
	}
	// The same request again, members reordered and spaced differently.
	same := `{ "type": "secret", "scopes": ["customers:read", "charges:read"], "name": "My API Key", "mid": "` + m.MID + `" }`
	for range 2 {
		r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), same)
		if r.Status != 201 || r.Raw != first.Raw {
			t.Fatalf("replay: %d %s\nfirst:  %s", r.Status, r.Raw, first.Raw)
		}
		if r.Header.Get("Idempotent-Replayed") != "true" || r.Header.Get("Location") != "/v1/api-keys/"+apitest.Str(first, "id") || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("replay headers %v", r.Header)
		}
	}
	apitest.AssertKeyCount(t, m, 3)
	apitest.AssertPair(t, apitest.App(), m.AppKey, apitest.Str(first, "value"), true) // the replayed secret is the real one

	// Another merchant's use of the same key is its own.
	other := apitest.NewMerchant(t)
	r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(apitest.TokenFor(t, other), key), strings.Replace(body, m.MID, other.MID, 1))
	if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" || apitest.Str(r, "id") == apitest.Str(first, "id") {
		t.Fatalf("other merchant: %d %s", r.Status, r.Raw)
	}
}

func TestLifecycleIdempotencyKeyInTheBody(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	key := apitest.NewIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"public","idempotencyKey":"` + key + `"}`
	first := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), body)
	again := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), body)
	// Header and member together, agreeing, name the same request.
	both := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	// The header alone, with the same content, too.
	header := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), `{"mid":"`+m.MID+`","name":"n","type":"public"}`)
	if first.Status != 201 || again.Raw != first.Raw || both.Raw != first.Raw || header.Raw != first.Raw {
		t.Fatalf("first %s\nagain %s\nboth %s\nheader %s", first.Raw, again.Raw, both.Raw, header.Raw)
	}
	for _, r := range []apitest.Response{again, both, header} {
		if r.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("replay not marked")
		}
	}
	apitest.AssertKeyCount(t, m, 3)
}

func TestLifecycleIdempotency400(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	valid := `{"mid":"` + m.MID + `","name":"n","type":"public"`
	tests := []struct {
		name, header, body string
		want               []string
	}{
		{"empty header", "", valid + `}`, []string{"Invalid Idempotency-Key."}},
		{"256 characters", strings.Repeat("k", 256), valid + `}`, []string{"Invalid Idempotency-Key."}},
		{"control character", "a\x01b", valid + `}`, []string{"Invalid Idempotency-Key."}},
		{"not ASCII", "clé", valid + `}`, []string{"Invalid Idempotency-Key."}},
		{"member not a string", "-", valid + `,"idempotencyKey":42}`, []string{"Invalid Idempotency-Key."}},
		{"member empty", "-", valid + `,"idempotencyKey":""}`, []string{"Invalid Idempotency-Key."}},
		{"header and member differ", "a", valid + `,"idempotencyKey":"b"}`, []string{"Idempotency-Key header and idempotencyKey member differ."}},
		{"with other problems", "", `{"mid":"` + m.MID + `","name":"<n>","type":"public"}`, []string{"Invalid Idempotency-Key.", "Invalid name."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := apitest.Bearer(tok)
			if tt.header != "-" {
				h["Idempotency-Key"] = tt.header
			}
			r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", h, tt.body)
			if r.Status != 400 || r.Raw != apitest.FailedCreation(tt.want...) {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	apitest.AssertKeyCount(t, m, 2)
}

func TestLifecycleIdempotency422DifferentBody(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	key := apitest.NewIdempotencyKey()
	apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"n","type":"secret","scopes":["charges:read"]}`)
	first := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), `{"mid":"`+m.MID+`","name":"n","type":"secret","scopes":["charges:read"]}`)
	if first.Status != 201 {
		t.Fatalf("%d %s", first.Status, first.Raw)
	}
	for _, body := range []string{
		`{"mid":"` + m.MID + `","name":"other","type":"secret","scopes":["charges:read"]}`,
		`{"mid":"` + m.MID + `","name":"n","type":"secret"}`,
		`{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":["charges:read"],"expires_at":"2030-01-01T00:00:00Z"}`,
	} {
		r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
		if r.Status != 422 || r.Raw != apitest.FailedCreation("This Idempotency-Key was already used with a different request body.") {
			t.Fatalf("%s: %d %s", body, r.Status, r.Raw)
		}
	}
	apitest.AssertKeyCount(t, m, 4)
}

func TestLifecycleIdempotency409InFlightThenTakenOver(t *testing.T) {
	clk, h, m, tok := apitest.ClockedMerchant(t)
	key := apitest.NewIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":["charges:read"]}`
	// A first request with this key that claimed it and has not finished.
	in, err := apikey.CreateRequest{MID: m.MID, Name: "n", Type: "secret", Scopes: []any{"charges:read"}}.Validate(clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	store := &dynamostore.Store{Client: apitest.Env().Clients.DynamoDB, Table: apitest.Env().Config.TableName}
	now := clk.Now()
	prior, err := store.ClaimIdempotencyKey(context.Background(), apikey.IdempotencyClaim{
		MID: m.MID, CallerKeyID: m.SecretKeyID, Key: key, Fingerprint: in.Fingerprint(apikey.Caller{MID: m.MID, KeyID: m.SecretKeyID, Scopes: scope.All()}), Token: "first", At: now,
		LockedUntil: now.Add(apikey.IdempotencyLock), ExpiresAt: now.Add(apikey.IdempotencyWindow),
	})
	if prior != nil || err != nil {
		t.Fatalf("claim: %+v %v", prior, err)
	}
	r := apitest.Do(t, h, "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	if r.Status != 409 || r.Raw != apitest.FailedCreation("A request with this Idempotency-Key is still in progress. Retry shortly.") || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("%d %s (Retry-After %q)", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	apitest.AssertKeyCount(t, m, 2)
	// The first request died: once its lock has passed, a retry takes over.
	clk.Advance(apikey.IdempotencyLock)
	r = apitest.Do(t, h, "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("take-over: %d %s", r.Status, r.Raw)
	}
	again := apitest.Do(t, h, "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	if again.Raw != r.Raw || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay after take-over: %s", again.Raw)
	}
	apitest.AssertKeyCount(t, m, 3)
}

func TestLifecycleIdempotency409AfterARoll(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	key := apitest.NewIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":["charges:read"]}`
	first := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	if r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys/"+apitest.Str(first, "id")+"/roll", apitest.Bearer(tok), ""); r.Status != 200 {
		t.Fatalf("roll: %d %s", r.Status, r.Raw)
	}
	r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	want := apitest.FailedCreation("The key this request created has changed since.")
	if r.Status != 409 || r.Raw != want || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}

func TestLifecycleIdempotency16ConcurrentCreatesMakeOneKey(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	key := apitest.NewIdempotencyKey()
	body := `{"mid":"` + m.MID + `","name":"n","type":"secret","scopes":["charges:read"]}`
	const n = 16
	recs := make([]*httptest.ResponseRecorder, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			recs[i] = apitest.Serve(apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
		}()
	}
	close(start)
	wg.Wait()

	var created []apitest.Response
	inFlight := 0
	for _, rec := range recs {
		r := apitest.Decode(t, "POST", "/v1/api-keys", rec)
		switch {
		case r.Status == 201:
			created = append(created, r)
		case r.Status == 409 && r.Raw == apitest.FailedCreation("A request with this Idempotency-Key is still in progress. Retry shortly."):
			inFlight++
		default:
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
	if len(created) == 0 {
		t.Fatal("no request created the key")
	}
	fresh := 0
	for _, r := range created {
		if apitest.Str(r, "id") != apitest.Str(created[0], "id") || apitest.Str(r, "value") != apitest.Str(created[0], "value") {
			t.Fatalf("two different keys answered:\n%s\n%s", r.Raw, created[0].Raw)
		}
		if r.Header.Get("Idempotent-Replayed") == "" {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d answers claim to have created the key, want 1", fresh)
	}
	t.Logf("16 concurrent creates: %d created, %d replayed, %d told in flight", fresh, len(created)-fresh, inFlight)
	apitest.AssertKeyCount(t, m, 3)
	// Once done, every retry replays it.
	time.Sleep(10 * time.Millisecond)
	r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, key), body)
	if r.Status != 201 || apitest.Str(r, "value") != apitest.Str(created[0], "value") || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s", r.Status, r.Raw)
	}
}
