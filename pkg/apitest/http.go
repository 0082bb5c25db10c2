package apitest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apidoc"
)

// Response is a recorded HTTP response with its JSON body decoded.
type Response struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

// Do sends a request through h and decodes the JSON answer, checking what
// every answer must have and both against the API description.
func Do(t testing.TB, h http.Handler, method, path string, header map[string]string, body string) Response {
	t.Helper()
	return Decode(t, method, path, Serve(h, method, path, header, body))
}

// Serve sends a request through h; unlike Do, it may run on any goroutine.
// The exchange is checked against the API description when Decode reads
// it, or else after the package's tests (Main).
func Serve(h http.Handler, method, path string, header map[string]string, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sent := req.Header.Clone()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	Remember(body, header["Authorization"])
	pending.Store(rec, exchange{method: method, target: path, header: sent, body: []byte(body)})
	return rec
}

// Decode checks what every answer must have (a JSON object with an errors
// array, its content type, X-Request-Id), checks the exchange against the
// API description, and decodes the body.
func Decode(t testing.TB, method, path string, rec *httptest.ResponseRecorder) Response {
	t.Helper()
	raw, _ := io.ReadAll(rec.Body)
	Remember(string(raw)) // here rather than in Serve: benchmarks time Serve
	checkServed(t, rec, raw)
	r := Response{Status: rec.Code, Header: rec.Header(), Raw: string(raw)}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("%s %s: no X-Request-Id", method, path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	// The API description is the one answer without an errors member.
	if _, ok := r.Body["errors"].([]any); !ok && !(method == http.MethodGet && path == apidoc.Path && r.Status == http.StatusOK) {
		t.Fatalf("%s %s: no errors array in %s", method, path, raw)
	}
	return r
}

// JSONCT and FormCT are the headers of a JSON and of a form body.
var (
	JSONCT = map[string]string{"Content-Type": "application/json"}
	FormCT = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
)

// Bearer returns JSON headers with the token in upstream's lowercase scheme.
func Bearer(tok string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "Authorization": "bearer " + tok}
}

// WithHeader returns h plus one more header.
func WithHeader(h map[string]string, name, value string) map[string]string {
	out := map[string]string{name: value}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// BasicAuth is an HTTP Basic header value for a client id and secret,
// form-encoded first as RFC 6749 §2.3.1 asks.
func BasicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// ErrorsOf returns a body's errors as strings.
func ErrorsOf(r Response) []string {
	var out []string
	for _, e := range r.Body["errors"].([]any) {
		out = append(out, e.(string))
	}
	return out
}

// Str returns a string member of a body ("" when absent or not a string).
func Str(r Response, name string) string {
	s, _ := r.Body[name].(string)
	return s
}

// Members returns a JSON object's member names, sorted.
func Members(obj map[string]any) []string {
	out := make([]string, 0, len(obj))
	for k := range obj {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// JSON returns v encoded as JSON.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
