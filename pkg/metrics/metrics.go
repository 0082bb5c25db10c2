// Package metrics writes the service's CloudWatch metrics in the Embedded
// Metric Format (EMF): a JSON line on the function's log output from which
// CloudWatch Logs extracts the metrics. Recording a metric costs no call to
// CloudWatch, only the write of a line that a request shares with every
// metric it records.
//
// Dimension values come from the code alone (route patterns, refusal
// reasons, service names), never from a request: no key value, token or
// path parameter can reach a metric, and the number of metrics CloudWatch
// bills for stays bounded.
package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric; the Stage
// dimension keeps the stages apart.
const Namespace = "FlexFactor/Credplane"

// Unit is a CloudWatch unit.
type Unit string

// The units the metrics use.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Dimension names. Stage and Function come from the Writer; the others are
// labels given where a metric is recorded.
const (
	DimStage       = "Stage"
	DimFunction    = "Function"
	DimRoute       = "Route"       // the route's pattern, such as "POST /v1/oauth2/token"
	DimStatusClass = "StatusClass" // 2xx, 3xx, 4xx, 5xx
	DimGrantType   = "GrantType"   // client_credentials, refresh_token
	DimReason      = "Reason"      // why a token request was refused (auth.Reason*, or its OAuth error code)
	DimService     = "Service"     // the dependency that failed: DynamoDB, KMS, Secrets Manager, GitHub
)

// Metric names.
const (
	Requests           = "Requests"
	Latency            = "Latency"
	RateLimited        = "RateLimited"
	TokensIssued       = "TokensIssued"
	TokensRefused      = "TokensRefused"
	KeysCreated        = "KeysCreated"
	KeysRolled         = "KeysRolled"
	KeysDeleted        = "KeysDeleted"
	LeakReports        = "LeakReports"
	LeakedKeys         = "LeakedKeys"
	DependencyFailures = "DependencyFailures"
	MerchantsOnboarded = "MerchantsOnboarded"
)

// Definition is how a metric is published.
type Definition struct {
	Name string
	Unit Unit
	// Dimensions are the dimension sets it is published under: CloudWatch
	// keeps one metric per set (an alarm names one of them exactly).
	Dimensions [][]string
	// Description says what a data point stands for.
	Description string
}

// Catalogue is every metric the service publishes, in the order the
// README lists them.
var Catalogue = []Definition{
	{Requests, Count, [][]string{{DimStage, DimFunction, DimRoute, DimStatusClass}},
		"one per answered HTTP request"},
	{Latency, Milliseconds, [][]string{{DimStage, DimFunction, DimRoute}},
		"time from the request reaching the handler to its answer"},
	{RateLimited, Count, [][]string{{DimStage}, {DimStage, DimFunction, DimRoute}},
		"one per 429 the service answered itself (API Gateway's own throttling is its 4xx metric)"},
	{TokensIssued, Count, [][]string{{DimStage}, {DimStage, DimGrantType}},
		"one per token response (a key-pair exchange or a refresh)"},
	{TokensRefused, Count, [][]string{{DimStage}, {DimStage, DimReason}},
		"one per refused token or revocation request, by its internal reason"},
	{KeysCreated, Count, [][]string{{DimStage}},
		"one per key created by POST /v1/api-keys (not its idempotent replays)"},
	{KeysRolled, Count, [][]string{{DimStage}},
		"one per roll"},
	{KeysDeleted, Count, [][]string{{DimStage}},
		"one per successful DELETE"},
	{LeakReports, Count, [][]string{{DimStage}},
		"one per authenticated secret-scanning report"},
	{LeakedKeys, Count, [][]string{{DimStage}},
		"the true positives of a report: values of this stage's keys found leaked"},
	{DependencyFailures, Count, [][]string{{DimStage}, {DimStage, DimService}, {DimStage, DimFunction, DimService}},
		"one per request or invocation failed by a dependency (after the SDK's retries): throttled, timed out, unreachable or refused"},
	{MerchantsOnboarded, Count, [][]string{{DimStage}},
		"one per onboarding that issued a first key pair"},
}

var byName = func() map[string]Definition {
	m := make(map[string]Definition, len(Catalogue))
	for _, d := range Catalogue {
		m[d.Name] = d
	}
	return m
}()

// Lookup returns the definition of a metric.
func Lookup(name string) (Definition, bool) {
	d, ok := byName[name]
	return d, ok
}

// none stands for a dimension no label gave: CloudWatch refuses empty
// dimension values.
const none = "none"

// Writer writes the EMF lines of one function of one stage. Its methods are
// safe for concurrent use, and a nil *Writer writes nothing.
type Writer struct {
	out             io.Writer
	stage, function string
	now             func() time.Time
	mu              sync.Mutex
}

// New returns a Writer to out; now is the clock of the lines' timestamps
// (nil: time.Now).
func New(out io.Writer, stage, function string, now func() time.Time) *Writer {
	if now == nil {
		now = time.Now
	}
	return &Writer{out: out, stage: stage, function: function, now: now}
}

// Scope starts the metrics of one request or invocation, which Flush
// writes as one line; requestID (may be "") is written beside them so that
// the line joins the request's logs.
func (w *Writer) Scope(requestID string) *Scope {
	if w == nil {
		return nil
	}
	return &Scope{w: w, requestID: requestID, values: map[string]float64{}, labels: map[string]string{}}
}

// Scope gathers metrics into one line. A metric recorded twice, or with a
// label whose value differs from one already gathered, goes on a line of
// its own at once, so that no value is summed or relabelled. A nil *Scope
// records nothing.
type Scope struct {
	w         *Writer
	requestID string
	mu        sync.Mutex
	values    map[string]float64
	labels    map[string]string
}

// Count records one occurrence of name; labels are dimension name and
// value pairs.
func (s *Scope) Count(name string, labels ...string) { s.Add(name, 1, labels...) }

// Add records value for name; labels are dimension name and value pairs.
// A metric the Catalogue does not define is ignored.
func (s *Scope) Add(name string, value float64, labels ...string) {
	if s == nil {
		return
	}
	if _, ok := byName[name]; !ok {
		return
	}
	pairs := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		pairs[labels[i]] = labels[i+1]
	}
	s.mu.Lock()
	_, again := s.values[name]
	for k, v := range pairs {
		if prev, set := s.labels[k]; set && prev != v {
			again = true
		}
	}
	if !again {
		s.values[name] = value
		maps.Copy(s.labels, pairs)
	}
	s.mu.Unlock()
	if again {
		s.w.write(s.requestID, map[string]float64{name: value}, pairs)
	}
}

// Flush writes what the scope gathered as one line (nothing when it
// gathered nothing) and empties it.
func (s *Scope) Flush() {
	if s == nil {
		return
	}
	s.mu.Lock()
	values, labels := s.values, s.labels
	s.values, s.labels = map[string]float64{}, map[string]string{}
	s.mu.Unlock()
	if len(values) > 0 {
		s.w.write(s.requestID, values, labels)
	}
}

// directive is an EMF MetricDirective.
type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

// definition is an EMF MetricDefinition.
type definition struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

// write writes one EMF line: the metadata, then the dimension values, the
// metric values and the request id as top-level members. Metrics published
// under the same dimension sets share a directive.
func (w *Writer) write(requestID string, values map[string]float64, labels map[string]string) {
	members := map[string]any{DimStage: w.stage, DimFunction: w.function}
	var directives []directive
	for _, name := range slices.Sorted(maps.Keys(values)) {
		def := byName[name]
		members[name] = values[name]
		i := slices.IndexFunc(directives, func(d directive) bool { return sameSets(d.Dimensions, def.Dimensions) })
		if i < 0 {
			directives = append(directives, directive{Namespace: Namespace, Dimensions: def.Dimensions})
			i = len(directives) - 1
		}
		directives[i].Metrics = append(directives[i].Metrics, definition{Name: name, Unit: def.Unit})
		for _, set := range def.Dimensions {
			for _, dim := range set {
				if _, given := members[dim]; !given {
					members[dim] = orNone(labels[dim])
				}
			}
		}
	}
	for k, v := range labels {
		if _, taken := members[k]; !taken {
			members[k] = orNone(v)
		}
	}
	if requestID != "" {
		members["request_id"] = requestID
	}

	var buf bytes.Buffer
	meta, _ := json.Marshal(map[string]any{"Timestamp": w.now().UnixMilli(), "CloudWatchMetrics": directives})
	buf.WriteString(`{"_aws":`)
	buf.Write(meta)
	for _, k := range slices.Sorted(maps.Keys(members)) {
		key, _ := json.Marshal(k)
		val, _ := json.Marshal(members[k])
		buf.WriteByte(',')
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(val)
	}
	buf.WriteString("}\n")
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.out.Write(buf.Bytes())
}

func sameSets(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

func orNone(v string) string {
	if strings.TrimSpace(v) == "" {
		return none
	}
	return v
}

type ctxKey struct{}

// NewContext returns a context carrying the scope of its request.
func NewContext(ctx context.Context, s *Scope) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the scope ctx carries, or nil.
func FromContext(ctx context.Context) *Scope {
	s, _ := ctx.Value(ctxKey{}).(*Scope)
	return s
}

// Record counts one occurrence of name in the scope of ctx's request (see
// Scope.Count); without a scope it does nothing.
func Record(ctx context.Context, name string, labels ...string) {
	FromContext(ctx).Count(name, labels...)
}

// RecordValue records value for name in the scope of ctx's request (see
// Scope.Add).
func RecordValue(ctx context.Context, name string, value float64, labels ...string) {
	FromContext(ctx).Add(name, value, labels...)
}
