// Package metricstest reads the service's metric lines back in tests and
// holds each to the CloudWatch Embedded Metric Format specification, so a
// test that finds its metric also proves that CloudWatch would extract it.
package metricstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Line is one EMF line, decoded.
type Line struct {
	// Timestamp is _aws.Timestamp, milliseconds since the epoch.
	Timestamp int64
	// Directives are _aws.CloudWatchMetrics.
	Directives []Directive
	// Members are the top-level members other than _aws: dimension values,
	// metric values and properties.
	Members map[string]any
}

// Directive is an EMF MetricDirective.
type Directive struct {
	Namespace  string
	Dimensions [][]string
	Metrics    []Metric
}

// Metric is an EMF MetricDefinition.
type Metric struct {
	Name string
	Unit string
}

// units are CloudWatch's standard units, the values a MetricDefinition's
// Unit may take.
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// Limits of the specification and of CloudWatch.
const (
	maxDimensionsPerSet = 30
	maxMetrics          = 100
	maxValues           = 100
	maxDimensionValue   = 1024
	maxNamespace        = 255
)

// IsEMF reports whether a log line claims to be an EMF document (a JSON
// object with an _aws member).
func IsEMF(line []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(line, &probe) != nil {
		return false
	}
	_, ok := probe["_aws"]
	return ok
}

// Parse decodes an EMF line and checks it against the specification: the
// metadata's members and types, the limits, and that every dimension and
// metric a directive names is a top-level member of the right type.
func Parse(line []byte) (Line, error) {
	line = bytes.TrimRight(line, "\n")
	if bytes.ContainsAny(line, "\n\r") {
		return Line{}, fmt.Errorf("not one line: %q", line)
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return Line{}, fmt.Errorf("not a JSON object: %v", err)
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(root["_aws"], &meta); err != nil {
		return Line{}, fmt.Errorf("_aws is not an object: %v", err)
	}
	for k := range meta {
		if !slices.Contains([]string{"Timestamp", "CloudWatchMetrics", "LogGroupName", "LogStreamName"}, k) {
			return Line{}, fmt.Errorf("_aws has an unknown member %q", k)
		}
	}
	var out Line
	if err := json.Unmarshal(meta["Timestamp"], &out.Timestamp); err != nil || out.Timestamp <= 0 {
		return Line{}, fmt.Errorf("_aws.Timestamp is not epoch milliseconds: %s", meta["Timestamp"])
	}
	var directives []map[string]json.RawMessage
	if err := json.Unmarshal(meta["CloudWatchMetrics"], &directives); err != nil || len(directives) == 0 {
		return Line{}, fmt.Errorf("_aws.CloudWatchMetrics is not a non-empty array of objects: %s", meta["CloudWatchMetrics"])
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&out.Members); err != nil {
		return Line{}, err
	}
	delete(out.Members, "_aws")
	for i, raw := range directives {
		d, err := directive(raw, out.Members)
		if err != nil {
			return Line{}, fmt.Errorf("CloudWatchMetrics[%d]: %v", i, err)
		}
		out.Directives = append(out.Directives, d)
	}
	for k, v := range out.Members {
		if n, ok := v.(json.Number); ok {
			f, _ := n.Float64()
			out.Members[k] = f
		}
	}
	return out, nil
}

func directive(raw map[string]json.RawMessage, members map[string]any) (Directive, error) {
	var d Directive
	for k := range raw {
		if !slices.Contains([]string{"Namespace", "Dimensions", "Metrics"}, k) {
			return d, fmt.Errorf("unknown member %q", k)
		}
	}
	if err := json.Unmarshal(raw["Namespace"], &d.Namespace); err != nil || d.Namespace == "" || len(d.Namespace) > maxNamespace {
		return d, fmt.Errorf("namespace %s is empty, too long or not a string", raw["Namespace"])
	}
	if err := json.Unmarshal(raw["Dimensions"], &d.Dimensions); err != nil || d.Dimensions == nil {
		return d, fmt.Errorf("dimensions are not an array of arrays of strings: %s", raw["Dimensions"])
	}
	for _, set := range d.Dimensions {
		if len(set) > maxDimensionsPerSet {
			return d, fmt.Errorf("a dimension set of %d names", len(set))
		}
		for _, name := range set {
			v, ok := members[name].(string)
			if !ok || v == "" || len(v) > maxDimensionValue {
				return d, fmt.Errorf("dimension %q has no string value at the top level (%v)", name, members[name])
			}
		}
	}
	var metrics []map[string]json.RawMessage
	if err := json.Unmarshal(raw["Metrics"], &metrics); err != nil || len(metrics) == 0 || len(metrics) > maxMetrics {
		return d, fmt.Errorf("metrics are not an array of 1 to %d objects: %s", maxMetrics, raw["Metrics"])
	}
	for _, m := range metrics {
		var def Metric
		for k := range m {
			if !slices.Contains([]string{"Name", "Unit", "StorageResolution"}, k) {
				return d, fmt.Errorf("a metric definition has an unknown member %q", k)
			}
		}
		if err := json.Unmarshal(m["Name"], &def.Name); err != nil || def.Name == "" {
			return d, fmt.Errorf("metric Name %s", m["Name"])
		}
		if u, ok := m["Unit"]; ok {
			if err := json.Unmarshal(u, &def.Unit); err != nil || !slices.Contains(units, def.Unit) {
				return d, fmt.Errorf("metric %s: Unit %s is not a CloudWatch unit", def.Name, u)
			}
		}
		if !isValue(members[def.Name]) {
			return d, fmt.Errorf("metric %s has no numeric value at the top level (%v)", def.Name, members[def.Name])
		}
		d.Metrics = append(d.Metrics, def)
	}
	return d, nil
}

// isValue reports whether v is a metric value: a number, or an array of at
// most 100 numbers.
func isValue(v any) bool {
	switch v := v.(type) {
	case json.Number:
		return true
	case []any:
		if len(v) == 0 || len(v) > maxValues {
			return false
		}
		for _, e := range v {
			if _, ok := e.(json.Number); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// Lines returns the EMF lines of a log text, in order, failing the test on
// any that breaks the specification; other lines are skipped.
func Lines(t testing.TB, text string) []Line {
	t.Helper()
	var out []Line
	for _, l := range strings.Split(text, "\n") {
		if !IsEMF([]byte(l)) {
			continue
		}
		line, err := Parse([]byte(l))
		if err != nil {
			t.Fatalf("a metric line breaks the EMF specification: %v\n%s", err, l)
		}
		out = append(out, line)
	}
	return out
}

// Of returns the EMF lines of a log text that carry a request id, failing
// the test when there is none.
func Of(t testing.TB, text, requestID string) []Line {
	t.Helper()
	var out []Line
	for _, l := range Lines(t, text) {
		if l.Members["request_id"] == requestID {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no metric line for request %s", requestID)
	}
	return out
}

// Value returns a metric's value in the line.
func (l Line) Value(metric string) (float64, bool) {
	for _, d := range l.Directives {
		for _, m := range d.Metrics {
			if m.Name == metric {
				v, ok := l.Members[metric].(float64)
				return v, ok
			}
		}
	}
	return 0, false
}

// Label returns a top-level string member (a dimension value or property).
func (l Line) Label(name string) string {
	s, _ := l.Members[name].(string)
	return s
}

// Dimensions returns the dimension sets a metric is published under in the
// line, and its unit.
func (l Line) Dimensions(metric string) ([][]string, string) {
	for _, d := range l.Directives {
		for _, m := range d.Metrics {
			if m.Name == metric {
				return d.Dimensions, m.Unit
			}
		}
	}
	return nil, ""
}

// Has reports whether the line publishes metric.
func (l Line) Has(metric string) bool {
	_, ok := l.Value(metric)
	return ok
}

// Find returns the lines among ls that publish metric.
func Find(ls []Line, metric string) []Line {
	var out []Line
	for _, l := range ls {
		if l.Has(metric) {
			out = append(out, l)
		}
	}
	return out
}
