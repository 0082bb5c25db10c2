package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/token"
	"github.com/flexfactor/credplane/pkg/token/tokentest"
)

// countingStates is a key-state source that counts its reads.
type countingStates struct {
	reads atomic.Int64
	state auth.KeyState
}

func (c *countingStates) KeyStates(_ context.Context, ids ...string) (map[string]auth.KeyState, error) {
	c.reads.Add(1)
	out := map[string]auth.KeyState{}
	for _, id := range ids {
		out[id] = c.state
	}
	return out, nil
}

// guarded returns a protected no-op route, a valid token for it and the
// key-state source behind its status cache.
func guarded(t testing.TB) (http.Handler, string, *countingStates) {
	signer := tokentest.NewSigner(t)
	iss := &token.Issuer{Signer: signer, Issuer: "https://iss", Audience: "https://aud"}
	tok, err := iss.Issue(context.Background(), token.Subject{SecretKeyID: "key_s", PublicKeyID: "key_p", SecretGen: 1, PublicGen: 1, MID: "mid_1", Scopes: "api-keys:read"})
	if err != nil {
		t.Fatal(err)
	}
	src := &countingStates{state: auth.KeyState{MID: "mid_1", Generation: 1}}
	cached := time.Now()
	b := &httpapi.Bearer{
		Verifier: &token.Verifier{Issuer: "https://iss", Audience: "https://aud", Keys: signer.Keys},
		// The cache's clock stands still: its reads do not depend on how long
		// a test or benchmark runs.
		Status: &auth.StatusCache{Source: src, Now: func() time.Time { return cached }},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return b.Require("api-keys:read", ok), tok.Token, src
}

func serve(h http.Handler, tok string) int {
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestBearerReadsKeyStatusOncePerTTL(t *testing.T) {
	h, tok, src := guarded(t)
	for range 10 {
		if code := serve(h, tok); code != http.StatusNoContent {
			t.Fatalf("status %d", code)
		}
	}
	if got := src.reads.Load(); got != 1 {
		t.Fatalf("%d key-state reads for 10 requests, want 1 (both keys at once)", got)
	}
	h, tok, src = guarded(t)
	src.state = auth.KeyState{MID: "mid_1", Generation: 1, Revoked: true}
	if code := serve(h, tok); code != http.StatusUnauthorized {
		t.Fatalf("revoked key: status %d", code)
	}
}

// BenchmarkBearerSteadyState is the per-request cost of authentication on a
// protected route once the keys and the key status are cached: an ES256
// verification and two cache lookups, no I/O.
func BenchmarkBearerSteadyState(b *testing.B) {
	h, tok, src := guarded(b)
	serve(h, tok)
	b.ReportAllocs()
	for b.Loop() {
		if code := serve(h, tok); code != http.StatusNoContent {
			b.Fatalf("status %d", code)
		}
	}
	if src.reads.Load() != 1 {
		b.Fatalf("%d reads in steady state", src.reads.Load())
	}
}
