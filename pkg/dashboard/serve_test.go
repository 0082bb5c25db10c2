package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/dashboard"
)

// get serves one GET through h, checked against the API description.
func get(t *testing.T, h http.Handler, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	rec := apitest.Serve(h, "GET", path, header, "")
	apitest.Check(t, rec)
	return rec
}

// wantSecurityHeaders checks the headers every dashboard file carries.
func wantSecurityHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; " +
			"frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-cache",
	}
	for name, v := range want {
		if got := rec.Header().Values(name); !slices.Equal(got, []string{v}) {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	if rec.Header().Get("ETag") == "" || rec.Header().Get("X-Request-Id") == "" {
		t.Errorf("no ETag or X-Request-Id: %v", rec.Header())
	}
}

// The token function serves the page and every asset, as committed, with
// their media types and the security headers; so does the dev server's
// stack (every route).
func TestDashboard200(t *testing.T) {
	want := map[string]string{dashboard.Path: "index.html"} // URL path -> file
	for _, name := range dashboard.Assets() {
		want[dashboard.Path+"/"+name] = filepath.Join("assets", name)
	}
	types := map[string]string{
		".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
		".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml",
	}
	for _, tt := range []struct {
		name string
		h    http.Handler
	}{{"token function", apitest.Deps(nil).Token()}, {"every route", apitest.App()}} {
		t.Run(tt.name, func(t *testing.T) {
			for path, file := range want {
				rec := get(t, tt.h, path, nil)
				committed, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Code != 200 || rec.Body.String() != string(committed) {
					t.Fatalf("GET %s: %d; body is %s: %v", path, rec.Code, file, rec.Body.String() == string(committed))
				}
				if got := rec.Header().Get("Content-Type"); got != types[filepath.Ext(file)] {
					t.Errorf("GET %s: Content-Type %q", path, got)
				}
				wantSecurityHeaders(t, rec)
			}
		})
	}
}

// A client holding the current version gets 304 without a body; any
// other version gets the file.
func TestDashboard304(t *testing.T) {
	h := apitest.Deps(nil).Token()
	for _, path := range []string{dashboard.Path, dashboard.Path + "/dashboard.js"} {
		etag := get(t, h, path, nil).Header().Get("ETag")
		for _, tt := range []struct {
			ifNoneMatch string
			want        int
		}{
			{etag, 304},
			{"W/" + etag, 304},
			{`"0000", ` + etag, 304},
			{"*", 304},
			{`"000000000000000000000000"`, 200},
		} {
			rec := get(t, h, path, map[string]string{"If-None-Match": tt.ifNoneMatch})
			if rec.Code != tt.want || (tt.want == 304 && rec.Body.Len() != 0) {
				t.Errorf("GET %s If-None-Match %s: %d with %d bytes, want %d", path, tt.ifNoneMatch, rec.Code, rec.Body.Len(), tt.want)
			}
			wantSecurityHeaders(t, rec)
			if got := rec.Header().Get("ETag"); got != etag {
				t.Errorf("ETag %q, want %q", got, etag)
			}
		}
	}
}

// Anything else under the page's path is the API's JSON 404: the page is
// only at its own path, and only the files under assets/ are served.
func TestDashboard404(t *testing.T) {
	h := apitest.Deps(nil).Token()
	for _, path := range []string{
		dashboard.Path + "/missing.js", dashboard.Path + "/index.html", dashboard.Path + "/",
		dashboard.Path + "/assets", dashboard.Path + "/../v1/openapi.json", dashboard.Path + "/dashboard.js/x",
		dashboard.Path + "%2fdashboard.js", "/dashboard.js",
	} {
		r := apitest.Do(t, h, "GET", path, nil, "")
		if r.Status != 404 || !slices.Equal(apitest.ErrorsOf(r), []string{"Not found."}) {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Raw)
		}
		if csp := r.Header.Get("Content-Security-Policy"); csp != "" {
			t.Errorf("GET %s: the JSON 404 carries a page's CSP", path)
		}
	}
}

func TestDashboard405(t *testing.T) {
	h := apitest.Deps(nil).Token()
	for _, path := range []string{dashboard.Path, dashboard.Path + "/dashboard.js"} {
		for _, method := range []string{"POST", "PUT", "DELETE"} {
			r := apitest.Do(t, h, method, path, nil, "")
			if r.Status != 405 || r.Header.Get("Allow") != "GET, HEAD" || !slices.Equal(apitest.ErrorsOf(r), []string{"Method not allowed."}) {
				t.Errorf("%s %s: %d %v %s", method, path, r.Status, r.Header, r.Raw)
			}
		}
	}
}
