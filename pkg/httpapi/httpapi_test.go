package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apikey"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"Bearer a b", "", false},
		{"Bearerabc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := bearerToken(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("bearerToken(%q) = %q, %v", tt.in, got, ok)
		}
	}
}

func TestInternalHidesCause(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	tests := []struct {
		err        error
		status     int
		body       string
		retryAfter string
	}{
		{errors.New("table credplane-x: boom"), 500, `{"errors":["Internal error."]}`, ""},
		{apikey.ErrUnavailable, 503, `{"errors":["Service temporarily unavailable."]}`, "1"},
		{fmt.Errorf("get item: %w", errors.Join(apikey.ErrUnavailable, errors.New("dial tcp 127.0.0.1:8000: connection refused"))), 503, `{"errors":["Service temporarily unavailable."]}`, "1"},
		// A deadline that passed, however wrapped, is the budget running out.
		{context.DeadlineExceeded, 503, `{"errors":["Service temporarily unavailable."]}`, "1"},
		{fmt.Errorf("sign: %w", context.DeadlineExceeded), 503, `{"errors":["Service temporarily unavailable."]}`, "1"},
		// Only the adapters decide what else is transient: an error that
		// merely mentions throttling is an internal error here.
		{errors.New("ThrottlingException: slow down"), 500, `{"errors":["Internal error."]}`, ""},
		{context.Canceled, 500, `{"errors":["Internal error."]}`, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		Internal(rec, httptest.NewRequest("GET", "/", nil), log, tt.err)
		if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.body || rec.Header().Get("Retry-After") != tt.retryAfter {
			t.Errorf("%v: %d %q Retry-After=%q", tt.err, rec.Code, rec.Body.String(), rec.Header().Get("Retry-After"))
		}
	}
}

func TestWrapRecoversPanics(t *testing.T) {
	var logs bytes.Buffer
	h := Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }), slog.New(slog.NewJSONHandler(&logs, nil)), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || strings.TrimSpace(rec.Body.String()) != `{"errors":["Internal error."]}` || rec.Header().Get("X-Request-Id") == "" {
		t.Fatalf("%d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), `"status":500`) {
		t.Fatalf("logs %s", logs.String())
	}
}

func TestParseObject(t *testing.T) {
	for _, ok := range []string{`{}`, `{"a":1}`, " {\"a\":[1,2]}\n"} {
		if _, err := ParseObject([]byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{``, `null`, `[]`, `1`, `{`, `{}{}`, `{} x`} {
		var be *BodyError
		if _, err := ParseObject([]byte(bad)); !errors.As(err, &be) || be.Status != 400 || be.Message != MsgMalformedJSON {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestPathsThatAreNotCleanAreNotFound(t *testing.T) {
	h := Handler(slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	for _, p := range []string{"/v1/api-keys/.", "/v1/api-keys/..", "/v1//api-keys", "/v1/./api-keys", "", "v1/api-keys"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = p
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound || rec.Body.String() != `{"errors":["Not found."]}`+"\n" {
			t.Errorf("%q: %d %s", p, rec.Code, rec.Body)
		}
	}
}
