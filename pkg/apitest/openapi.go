package apitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flexfactor/credplane/pkg/apidoc"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Every request a test sends through Do, Serve or Server, and every answer
// it gets, is checked against the API description (pkg/apidoc):
//
//   - The route must be an operation of the document. A path the document
//     lacks must get the document's NotFound answer, and a method a
//     documented path does not list its MethodNotAllowed answer, whose
//     Allow header names exactly the path's operations.
//   - The answer is validated strictly: its status must be listed for the
//     operation, its body must match that status's schema (the schemas
//     allow no undocumented member), every header the document requires
//     must be there with a valid value, and every header the service sets
//     must be documented for that status.
//   - Every request header must be documented (a parameter or the
//     operation's security scheme), except those of HTTP itself.
//   - The request is validated too, but some tests send invalid requests on
//     purpose (malformed or oversized bodies, unknown or repeated members,
//     wrong content types, missing tokens, unknown parameters), and the
//     document describes valid requests strictly, as clients need them. So
//     a request the document calls invalid is not an error in itself: it
//     must be refused. A request the document calls invalid that gets a
//     success (below 400) fails the test, because then the document
//     forbids something the service accepts. (The reverse, a valid request
//     that is refused, is the service's business: a key of another
//     merchant, a scope the caller lacks, an expiry in the past.)

// description is the API description, loaded once per test binary.
var description = sync.OnceValues(func() (*apiDescription, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(apidoc.Document)
	if err != nil {
		return nil, fmt.Errorf("load the API description: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the API description is invalid: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the API description: %w", err)
	}
	return &apiDescription{doc: doc, router: router}, nil
})

type apiDescription struct {
	doc    *openapi3.T
	router routers.Router
}

// exchange is one request as a test sent it.
type exchange struct {
	method, target string
	header         http.Header
	body           []byte
}

// pending are the exchanges served by Serve and not yet decoded: Decode
// checks its exchange, and Main checks those no test decoded (benchmarks
// time Serve, so it does not check them itself).
var pending sync.Map // *httptest.ResponseRecorder -> exchange

// validated counts the request/response pairs checked against the
// document, and refusedInvalid those whose request it calls invalid (and
// the service refused).
var validated, refusedInvalid atomic.Int64

// Validated is the number of request/response pairs checked so far, and
// how many of their requests the document calls invalid.
func Validated() (pairs, invalid int64) { return validated.Load(), refusedInvalid.Load() }

// Check checks an exchange served by Serve against the API description,
// for a test that reads the answer itself instead of with Decode (an answer
// that is not a JSON object with errors: a JSON array).
func Check(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	checkServed(t, rec, rec.Body.Bytes())
}

// checkServed checks the exchange Serve recorded for rec, whose answer's
// body is body, and forgets it.
func checkServed(t testing.TB, rec *httptest.ResponseRecorder, body []byte) {
	t.Helper()
	if ex, ok := pending.LoadAndDelete(rec); ok {
		if err := conform(ex.(exchange), rec.Code, rec.Header(), body); err != nil {
			t.Fatal(err)
		}
	}
}

// checkPending checks the exchanges no test decoded and returns the first
// failure ("" when none).
func checkPending() string {
	var failure string
	pending.Range(func(k, v any) bool {
		rec := k.(*httptest.ResponseRecorder)
		pending.Delete(k)
		if err := conform(v.(exchange), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil && failure == "" {
			failure = err.Error()
		}
		return true
	})
	return failure
}

// conform checks one request and its answer against the document.
func conform(ex exchange, status int, header http.Header, body []byte) error {
	d, err := description()
	if err != nil {
		return err
	}
	validated.Add(1)
	prefix := func(err error) error { return fmt.Errorf("%s %s answered %d: %w", ex.method, ex.target, status, err) }
	req := ex.request()
	route, params, err := d.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		if err := d.generic("NotFound", req, status, header, body); err != nil {
			return prefix(fmt.Errorf("the path is not in the API description, so the answer must be its NotFound response: %w", err))
		}
		return nil
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if err := d.methodNotAllowed(req, status, header, body); err != nil {
			return prefix(fmt.Errorf("the API description lists no %s on this path, so the answer must be its MethodNotAllowed response: %w", ex.method, err))
		}
		return nil
	case err != nil:
		return prefix(err)
	}
	if err := documentedRequestHeaders(route, ex.header); err != nil {
		return prefix(err)
	}
	reqErr := validateRequest(route, params, req)
	in := &openapi3filter.RequestValidationInput{Request: ex.request(), PathParams: params, Route: route}
	if err := validateResponse(in, status, header, body); err != nil {
		return prefix(err)
	}
	if reqErr != nil && status < 400 {
		return prefix(fmt.Errorf("the API description calls this request invalid, yet the service accepted it: %w", reqErr))
	}
	if reqErr != nil {
		refusedInvalid.Add(1)
	}
	return nil
}

// request rebuilds the request for a validation pass.
func (ex exchange) request() *http.Request {
	req := httptest.NewRequest(ex.method, ex.target, bytes.NewReader(ex.body))
	req.Header = ex.header.Clone()
	return req
}

// validateRequest checks the request's parameters, body and credentials;
// query parameters the operation does not list make it invalid too.
func validateRequest(route *routers.Route, params map[string]string, req *http.Request) error {
	var known []string
	for _, p := range slices.Concat(route.PathItem.Parameters, route.Operation.Parameters) {
		if p.Value.In == openapi3.ParameterInQuery {
			known = append(known, p.Value.Name)
		}
	}
	for name := range req.URL.Query() {
		if !slices.Contains(known, name) {
			return fmt.Errorf("query parameter %q is not in the API description", name)
		}
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: authenticate, MultiError: true},
	})
}

// authenticate checks that the request carries credentials in the shape of
// the scheme: the service itself decides whether they are good.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, rest, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	want := "bearer"
	if s := in.SecurityScheme; s.Type == "http" && strings.EqualFold(s.Scheme, "basic") {
		want = "basic"
	}
	if !strings.EqualFold(scheme, want) || strings.TrimSpace(rest) == "" {
		return fmt.Errorf("no %s credentials", want)
	}
	return nil
}

// httpHeaders are request headers of HTTP itself, which the document does
// not describe (Content-Type is the request body's media type), and those
// a browser adds on its own to what the dashboard sends (fetch metadata,
// client hints, language, origin, cache revalidation).
var httpHeaders = []string{"Accept", "Accept-Encoding", "Connection", "Content-Length", "Content-Type", "Host", "User-Agent",
	"Accept-Language", "Cache-Control", "Origin", "Pragma", "Priority", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform",
	"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Upgrade-Insecure-Requests"}

// documentedRequestHeaders fails on a request header that is neither of
// HTTP itself, nor a header parameter of the operation, nor the
// Authorization of one of its security schemes.
func documentedRequestHeaders(route *routers.Route, header http.Header) error {
	for name := range header {
		if slices.ContainsFunc(httpHeaders, func(h string) bool { return strings.EqualFold(h, name) }) {
			continue
		}
		if strings.EqualFold(name, "Authorization") && route.Operation.Security != nil && len(*route.Operation.Security) > 0 {
			continue
		}
		found := false
		for _, p := range slices.Concat(route.PathItem.Parameters, route.Operation.Parameters) {
			found = found || (p.Value.In == openapi3.ParameterInHeader && strings.EqualFold(p.Value.Name, name))
		}
		if !found {
			return fmt.Errorf("request header %s is not in the API description of %s %s", name, route.Method, route.Path)
		}
	}
	return nil
}

// validateResponse checks an answer strictly against the operation in in.
func validateResponse(in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	ref := in.Route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("status %d is not in the API description of %s %s", status, in.Route.Method, in.Route.Path)
	}
	for name := range header {
		documented := strings.EqualFold(name, "Content-Type")
		for h := range ref.Value.Headers {
			documented = documented || strings.EqualFold(h, name)
		}
		if !documented {
			return fmt.Errorf("response header %s is not in the API description of %s %s %d", name, in.Route.Method, in.Route.Path, status)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// generic checks an answer against one of the document's shared responses
// (components.responses).
func (d *apiDescription) generic(name string, req *http.Request, status int, header http.Header, body []byte) error {
	ref := d.doc.Components.Responses[name]
	if ref == nil {
		return fmt.Errorf("the API description has no components.responses.%s", name)
	}
	op := &openapi3.Operation{Responses: openapi3.NewResponses()}
	op.Responses.Delete("default")
	want := map[string]int{"NotFound": http.StatusNotFound, "MethodNotAllowed": http.StatusMethodNotAllowed}[name]
	op.Responses.Set(fmt.Sprint(want), ref)
	route := &routers.Route{Spec: d.doc, Method: req.Method, Path: req.URL.Path, PathItem: &openapi3.PathItem{}, Operation: op}
	return validateResponse(&openapi3filter.RequestValidationInput{Request: req, Route: route}, status, header, body)
}

// methodNotAllowed checks a 405: the generic answer, with an Allow header
// naming exactly the operations the document lists on the path (and HEAD,
// which Go's router serves wherever it serves GET).
func (d *apiDescription) methodNotAllowed(req *http.Request, status int, header http.Header, body []byte) error {
	if err := d.generic("MethodNotAllowed", req, status, header, body); err != nil {
		return err
	}
	var documented []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := req.Clone(context.Background())
		probe.Method = m
		if route, _, err := d.router.FindRoute(probe); err == nil {
			documented = slices.Sorted(maps.Keys(route.PathItem.Operations()))
			break
		}
	}
	var allowed []string
	for _, m := range strings.Split(header.Get("Allow"), ", ") {
		if m != http.MethodHead || !slices.Contains(documented, http.MethodGet) {
			allowed = append(allowed, m)
		}
	}
	sort.Strings(allowed)
	if !slices.Equal(allowed, documented) {
		return fmt.Errorf("the Allow header says %s, but the API description lists %v on this path", header.Get("Allow"), documented)
	}
	return nil
}

// Server starts an HTTP server for h whose every exchange is checked
// against the API description like those of Do: for clients that need a
// real URL (stock OAuth 2.0 libraries, JWKS fetchers). It stops when the
// test ends.
func Server(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		ex := exchange{method: r.Method, target: r.URL.RequestURI(), header: r.Header.Clone(), body: body}
		Remember(string(body), r.Header.Get("Authorization"), rec.Body.String())
		if err := conform(ex, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Errorf("%v", err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}
