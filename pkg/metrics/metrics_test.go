package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/flexfactor/credplane/infra/repo"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/flexfactor/credplane/pkg/metrics/metricstest"
)

var at = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func writer(out *bytes.Buffer) *metrics.Writer {
	return metrics.New(out, "production", "TokenFunction", func() time.Time { return at })
}

// TestOneLinePerScopeInTheEMFShape: what a request records is one line
// that holds to the EMF specification, each metric under its catalogued
// dimension sets and unit, the dimension values and metric values as
// top-level members, and the timestamp from the writer's clock.
func TestOneLinePerScopeInTheEMFShape(t *testing.T) {
	var out bytes.Buffer
	s := writer(&out).Scope("req-1")
	s.Count(metrics.Requests, metrics.DimRoute, "POST /v1/oauth2/token", metrics.DimStatusClass, "4xx")
	s.Add(metrics.Latency, 4.25, metrics.DimRoute, "POST /v1/oauth2/token")
	s.Count(metrics.TokensRefused, metrics.DimReason, "unknown_key")
	if out.Len() != 0 {
		t.Fatalf("written before Flush: %s", out.String())
	}
	s.Flush()
	s.Flush() // nothing left: no second line

	lines := metricstest.Lines(t, out.String())
	if len(lines) != 1 || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("%d lines, want 1:\n%s", len(lines), out.String())
	}
	l := lines[0]
	if l.Timestamp != at.UnixMilli() {
		t.Errorf("_aws.Timestamp = %d, want %d", l.Timestamp, at.UnixMilli())
	}
	for _, d := range l.Directives {
		if d.Namespace != metrics.Namespace {
			t.Errorf("Namespace %q", d.Namespace)
		}
	}
	for name, want := range map[string]float64{metrics.Requests: 1, metrics.Latency: 4.25, metrics.TokensRefused: 1} {
		def, _ := metrics.Lookup(name)
		dims, unit := l.Dimensions(name)
		if v, _ := l.Value(name); v != want || unit != string(def.Unit) || !slices.EqualFunc(dims, def.Dimensions, slices.Equal) {
			t.Errorf("%s = %v %s under %v; want %v %s under %v", name, v, unit, dims, want, def.Unit, def.Dimensions)
		}
	}
	for name, want := range map[string]string{
		metrics.DimStage: "production", metrics.DimFunction: "TokenFunction", metrics.DimRoute: "POST /v1/oauth2/token",
		metrics.DimStatusClass: "4xx", metrics.DimReason: "unknown_key", "request_id": "req-1",
	} {
		if got := l.Label(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// Metrics published under the same dimension sets share a directive.
	if len(l.Directives) != 3 {
		t.Errorf("%d directives, want 3 (one per distinct dimension sets): %s", len(l.Directives), out.String())
	}
}

// TestARepeatedMetricOrAConflictingLabelGetsItsOwnLine: nothing is summed
// or relabelled: a second value of a metric, or a label that would change
// a dimension of what the scope holds, is written at once on its own line.
func TestARepeatedMetricOrAConflictingLabelGetsItsOwnLine(t *testing.T) {
	var out bytes.Buffer
	s := writer(&out).Scope("")
	s.Count(metrics.DependencyFailures, metrics.DimService, "DynamoDB")
	s.Count(metrics.DependencyFailures, metrics.DimService, "DynamoDB")
	s.Count(metrics.TokensRefused, metrics.DimReason, "malformed")
	s.Count(metrics.RateLimited, metrics.DimReason, "expired")
	s.Flush()
	lines := metricstest.Lines(t, out.String())
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out.String())
	}
	// The lines written at once come first; the scope's own line last.
	if v, _ := lines[0].Value(metrics.DependencyFailures); v != 1 || lines[0].Label(metrics.DimService) != "DynamoDB" {
		t.Errorf("first line: %v", lines[0].Members)
	}
	if !lines[1].Has(metrics.RateLimited) || lines[1].Label(metrics.DimReason) != "expired" || lines[1].Has(metrics.TokensRefused) {
		t.Errorf("second line: %v", lines[1].Members)
	}
	last := lines[2]
	if v, _ := last.Value(metrics.DependencyFailures); v != 1 || !last.Has(metrics.TokensRefused) || last.Label(metrics.DimReason) != "malformed" {
		t.Errorf("last line: %v", last.Members)
	}
	if _, ok := lines[0].Members["request_id"]; ok {
		t.Error("an empty request id is written")
	}
}

// TestMissingDimensionsAreNamedNone: CloudWatch refuses an empty dimension
// value, so a dimension no label gave is "none"; a metric outside the
// catalogue is not written.
func TestMissingDimensionsAreNamedNone(t *testing.T) {
	var out bytes.Buffer
	s := writer(&out).Scope("")
	s.Count(metrics.Requests, metrics.DimRoute, "")
	s.Count("Typo")
	s.Flush()
	l := metricstest.Lines(t, out.String())[0]
	if l.Label(metrics.DimRoute) != "none" || l.Label(metrics.DimStatusClass) != "none" || l.Has("Typo") || l.Members["Typo"] != nil {
		t.Fatalf("%v", l.Members)
	}
}

func TestNilWriterAndScopeRecordNothing(t *testing.T) {
	var w *metrics.Writer
	s := w.Scope("r")
	s.Count(metrics.Requests)
	s.Flush()
	ctx := context.Background()
	metrics.Record(ctx, metrics.KeysCreated) // no scope in the context
	metrics.DependencyFailed(metrics.NewContext(ctx, nil), errors.New("x"))
}

// TestConcurrentScopesWriteWholeLines: scopes of concurrent requests on one
// writer never interleave their lines.
func TestConcurrentScopesWriteWholeLines(t *testing.T) {
	var out bytes.Buffer
	w := writer(&out)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			s := w.Scope(fmt.Sprint("req-", i))
			s.Count(metrics.Requests, metrics.DimRoute, "GET /v1/api-keys", metrics.DimStatusClass, "2xx")
			s.Flush()
		})
	}
	wg.Wait()
	if got := len(metricstest.Lines(t, out.String())); got != 50 {
		t.Fatalf("%d whole lines, want 50", got)
	}
}

// TestDependencyFailedNamesTheAWSService: an error from an SDK operation
// counts a failure of its service, in the request's scope; an error of the
// code's own counts nothing.
func TestDependencyFailedNamesTheAWSService(t *testing.T) {
	var out bytes.Buffer
	s := writer(&out).Scope("")
	ctx := metrics.NewContext(context.Background(), s)
	metrics.DependencyFailed(ctx, errors.New("a bug"))
	s.Flush()
	if out.Len() != 0 {
		t.Fatalf("an internal error counted: %s", out.String())
	}
	op := &smithy.OperationError{ServiceID: "KMS", OperationName: "Sign", Err: &smithy.GenericAPIError{Code: "ThrottlingException"}}
	metrics.DependencyFailed(ctx, fmt.Errorf("sign: %w", op))
	s.Flush()
	l := metricstest.Lines(t, out.String())[0]
	if v, _ := l.Value(metrics.DependencyFailures); v != 1 || l.Label(metrics.DimService) != "KMS" || l.Label(metrics.DimFunction) != "TokenFunction" {
		t.Fatalf("%v", l.Members)
	}
}

// TestCatalogue: every metric is defined once, each dimension set starts
// with Stage (the stages never mix) and names known dimensions.
func TestCatalogue(t *testing.T) {
	known := []string{metrics.DimStage, metrics.DimFunction, metrics.DimRoute, metrics.DimStatusClass, metrics.DimGrantType, metrics.DimReason, metrics.DimService}
	seen := map[string]bool{}
	for _, d := range metrics.Catalogue {
		if seen[d.Name] {
			t.Errorf("%s is defined twice", d.Name)
		}
		seen[d.Name] = true
		if len(d.Dimensions) == 0 || d.Unit == "" || d.Description == "" {
			t.Errorf("%s: %+v", d.Name, d)
		}
		for _, set := range d.Dimensions {
			if len(set) == 0 || set[0] != metrics.DimStage {
				t.Errorf("%s: dimension set %v does not start with Stage", d.Name, set)
			}
			for _, dim := range set {
				if !slices.Contains(known, dim) {
					t.Errorf("%s: unknown dimension %s", d.Name, dim)
				}
			}
		}
	}
}

// TestTheREADMEDocumentsEveryMetric: the README's metrics table has a row
// per metric naming its unit and each of its dimension sets.
func TestTheREADMEDocumentsEveryMetric(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 2 {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = line
		}
	}
	for _, d := range metrics.Catalogue {
		row, ok := rows[d.Name]
		if !ok {
			t.Errorf("README.md has no metrics table row for %s", d.Name)
			continue
		}
		if !strings.Contains(row, string(d.Unit)) {
			t.Errorf("README.md: the %s row does not give its unit %s", d.Name, d.Unit)
		}
		for _, set := range d.Dimensions {
			if want := strings.Join(set, ", "); !strings.Contains(row, want) {
				t.Errorf("README.md: the %s row does not list the dimension set %q", d.Name, want)
			}
		}
	}
}
