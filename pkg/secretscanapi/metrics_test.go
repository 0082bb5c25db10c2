package secretscanapi_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/flexfactor/credplane/pkg/metrics/metricstest"
	"github.com/flexfactor/credplane/pkg/secretscan"
	"github.com/flexfactor/credplane/pkg/secretscanapi"
)

// TestReportsAreCountedWithTheirLeakedKeys: an authenticated report counts
// one leak report and its true positives in the request's metric line; a
// refused one counts neither; the line holds no reported token.
func TestReportsAreCountedWithTheirLeakedKeys(t *testing.T) {
	s := newStack(t)
	body := `[{"token":"sk_test_leaked1","type":"t","url":"u","source":"commit"},{"token":"sk_test_leaked2","type":"t","url":"u","source":"commit"},{"token":"nope","type":"t","url":"u","source":"commit"}]`
	if rec := s.post(t, s.keyID, s.sign(t, body), body); rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec := s.post(t, s.keyID, "", body); rec.Code != 401 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	lines := metricstest.Lines(t, s.metrics.String())
	if len(lines) != 2 {
		t.Fatalf("%d metric lines, want 2:\n%s", len(lines), s.metrics)
	}
	reports, _ := lines[0].Value(metrics.LeakReports)
	leaked, _ := lines[0].Value(metrics.LeakedKeys)
	if reports != 1 || leaked != 2 {
		t.Errorf("LeakReports %v, LeakedKeys %v; want 1, 2", reports, leaked)
	}
	if lines[1].Has(metrics.LeakReports) || lines[1].Has(metrics.LeakedKeys) || lines[1].Label(metrics.DimStatusClass) != "4xx" {
		t.Errorf("a refused report is counted: %v", lines[1].Members)
	}
	if strings.Contains(s.metrics.String(), "sk_test_leaked") || strings.Contains(s.metrics.String(), hash("sk_test_leaked1")) {
		t.Error("a reported token reached a metric line")
	}
}

// TestUnreachableKeyDocumentIsADependencyFailure: when GitHub's key
// document cannot be fetched, the 503 counts a failure of GitHub.
func TestUnreachableKeyDocumentIsADependencyFailure(t *testing.T) {
	srv := httptest.NewServer(nil)
	srv.Close() // nothing listens there any more
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := httpapi.Handler(log, metrics.New(&out, "sandbox", "SecretScanningFunction", nil),
		&secretscanapi.Handler{Verifier: &secretscan.Verifier{URL: srv.URL}, Leaks: &fakeLeaks{}, Log: log})
	s := stack{h: h}
	if rec := s.post(t, "any-key", "c2ln", `[]`); rec.Code != 503 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	l := metricstest.Lines(t, out.String())[0]
	if v, _ := l.Value(metrics.DependencyFailures); v != 1 || l.Label(metrics.DimService) != "GitHub" {
		t.Fatalf("%v", l.Members)
	}
}
