package httpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDeadline(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), now.Add(d))
		t.Cleanup(cancel)
		return ctx
	}
	tests := []struct {
		name string
		ctx  context.Context
		want time.Time
	}{
		{"no deadline yet (dev server, tests)", context.Background(), now.Add(3 * time.Second)},
		{"a Lambda deadline far off", at(10 * time.Second), now.Add(3 * time.Second)},
		{"a Lambda deadline sooner than the budget", at(2 * time.Second), now.Add(1500 * time.Millisecond)},
		{"a Lambda deadline inside the margin", at(200 * time.Millisecond), now.Add(-300 * time.Millisecond)},
	}
	for _, tt := range tests {
		if got := Deadline(tt.ctx, now, 3*time.Second); !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestBudgetEndsARequest: a handler waiting on a dependency that never
// answers is ended by the budget, answers 503 with Retry-After, and the
// access log says the deadline passed.
func TestBudgetEndsARequest(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	var sawDeadline bool
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sawDeadline = r.Context().Deadline()
		<-r.Context().Done() // a dependency call that never returns on its own
		Internal(w, r, log, r.Context().Err())
	})
	rec := httptest.NewRecorder()
	WithBudget(Wrap(hang, log, nil), 20*time.Millisecond).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !sawDeadline {
		t.Fatal("the handler's context has no deadline")
	}
	if rec.Code != 503 || rec.Body.String() != `{"errors":["Service temporarily unavailable."]}`+"\n" || rec.Header().Get("Retry-After") != "1" || rec.Header().Get("X-Request-Id") == "" {
		t.Fatalf("%d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	if !strings.Contains(logs.String(), `"status":503`) || !strings.Contains(logs.String(), `"deadline_exceeded":true`) {
		t.Fatalf("logs %s", logs.String())
	}

	logs.Reset()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { Errors(w, http.StatusOK) })
	WithBudget(Wrap(ok, log, nil), time.Minute).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(logs.String(), `"deadline_exceeded":false`) {
		t.Fatalf("logs %s", logs.String())
	}
}

// TestDeadlinePassedIs503: whatever error a handler reports once the
// request's deadline has passed, the answer is 503.
func TestDeadlinePassedIs503(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	rec := httptest.NewRecorder()
	Internal(rec, httptest.NewRequestWithContext(ctx, "GET", "/", nil), slog.New(slog.DiscardHandler), errors.New("unprocessed keys after retries"))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
}
