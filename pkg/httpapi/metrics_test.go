package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/flexfactor/credplane/pkg/metrics/metricstest"
)

type testRoutes struct{}

func (testRoutes) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		metrics.Record(r.Context(), metrics.TokensIssued, metrics.DimGrantType, "client_credentials")
		JSON(w, http.StatusOK, ErrorBody{Errors: []string{}})
	})
	mux.HandleFunc("POST /v1/limited", func(w http.ResponseWriter, _ *http.Request) {
		Errors(w, http.StatusTooManyRequests, "slow down")
	})
	mux.HandleFunc("POST /v1/down", func(w http.ResponseWriter, r *http.Request) {
		err := &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem", Err: &smithy.GenericAPIError{Code: "ThrottlingException"}}
		Internal(w, r, slog.New(slog.NewJSONHandler(io.Discard, nil)), fmt.Errorf("get key: %w", err))
	})
	mux.HandleFunc("POST /v1/bug", func(w http.ResponseWriter, r *http.Request) {
		Internal(w, r, slog.New(slog.NewJSONHandler(io.Discard, nil)), fmt.Errorf("a bug"))
	})
	mux.HandleFunc("GET /v1/panics", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
}

// TestEveryRequestWritesOneMetricLine: the middleware writes one EMF line
// per request, naming the route by its pattern (never the path), the
// status class and the latency, and holding what the handler recorded:
// a 429 counts as rate limited, an AWS failure as a dependency failure of
// its service, a failure of the code's own as none.
func TestEveryRequestWritesOneMetricLine(t *testing.T) {
	var out bytes.Buffer
	m := metrics.New(&out, "sandbox", "TokenFunction", nil)
	h := Handler(slog.New(slog.NewJSONHandler(io.Discard, nil)), m, testRoutes{})
	for _, c := range []struct {
		method, path, route, class string
		also                       []string          // the metrics the line holds besides Requests and Latency
		labels                     map[string]string // and their dimensions
	}{
		{"GET", "/v1/things/key_01JDQ4sk_test_looks_secret", "GET /v1/things/{id}", "2xx", []string{metrics.TokensIssued}, map[string]string{metrics.DimGrantType: "client_credentials"}},
		{"POST", "/v1/limited", "POST /v1/limited", "4xx", []string{metrics.RateLimited}, nil},
		{"POST", "/v1/down", "POST /v1/down", "5xx", []string{metrics.DependencyFailures}, map[string]string{metrics.DimService: "DynamoDB"}},
		{"POST", "/v1/bug", "POST /v1/bug", "5xx", nil, nil},
		{"GET", "/v1/panics", "GET /v1/panics", "5xx", nil, nil},
		{"GET", "/nowhere/mid_123", "unmatched", "4xx", nil, nil},
	} {
		t.Run(c.path, func(t *testing.T) {
			out.Reset()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
			lines := metricstest.Lines(t, out.String())
			if len(lines) != 1 {
				t.Fatalf("%d metric lines, want 1:\n%s", len(lines), out.String())
			}
			l := lines[0]
			if v, _ := l.Value(metrics.Requests); v != 1 || l.Label(metrics.DimRoute) != c.route || l.Label(metrics.DimStatusClass) != c.class {
				t.Errorf("Requests %v, Route %q, StatusClass %q; want 1, %q, %q", v, l.Label(metrics.DimRoute), l.Label(metrics.DimStatusClass), c.route, c.class)
			}
			if v, ok := l.Value(metrics.Latency); !ok || v < 0 {
				t.Errorf("Latency = %v, %v", v, ok)
			}
			if got := l.Label("request_id"); got == "" || got != rec.Header().Get("X-Request-Id") {
				t.Errorf("request_id %q, X-Request-Id %q", got, rec.Header().Get("X-Request-Id"))
			}
			if strings.Contains(out.String(), "/nowhere") || strings.Contains(out.String(), "key_01") {
				t.Errorf("the path reached the metric line: %s", out.String())
			}
			for _, name := range []string{metrics.TokensIssued, metrics.RateLimited, metrics.DependencyFailures} {
				if want := slices.Contains(c.also, name); l.Has(name) != want {
					t.Errorf("%s recorded: %v, want %v", name, l.Has(name), want)
				}
			}
			for dim, want := range c.labels {
				if got := l.Label(dim); got != want {
					t.Errorf("%s = %q, want %q", dim, got, want)
				}
			}
		})
	}
}

// TestNoWriterNoMetrics: a handler built without a metric writer writes
// nothing and still serves.
func TestNoWriterNoMetrics(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(slog.New(slog.NewJSONHandler(io.Discard, nil)), nil, testRoutes{}).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/things/x", nil))
	if rec.Code != 200 {
		t.Fatal(rec.Code)
	}
}

func TestStatusClass(t *testing.T) {
	for status, want := range map[int]string{200: "2xx", 201: "2xx", 302: "3xx", 400: "4xx", 429: "4xx", 500: "5xx", 503: "5xx"} {
		if got := statusClass(status); got != want {
			t.Errorf("statusClass(%d) = %s, want %s", status, got, want)
		}
	}
}
