package apidoc_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/flexfactor/credplane/pkg/apidoc"
	"github.com/flexfactor/credplane/pkg/apitest"
)

// The token function serves the document as committed, to anyone, with a
// public cache lifetime; the dev server's stack (every route) does too.
func TestOpenAPI200(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    http.Handler
	}{{"token function", apitest.Deps(nil).Token()}, {"every route", apitest.App()}} {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.Do(t, tt.h, "GET", apidoc.Path, nil, "")
			if r.Status != 200 || r.Raw != string(apidoc.Document) {
				t.Fatalf("status %d; body is the document: %v", r.Status, r.Raw == string(apidoc.Document))
			}
			if got := r.Header.Get("Cache-Control"); got != "public, max-age=300" {
				t.Fatalf("Cache-Control %q", got)
			}
			if _, ok := r.Body["errors"]; ok || r.Body["openapi"] != "3.1.0" {
				t.Fatalf("members %v", apitest.Members(r.Body))
			}
		})
	}
}

func TestOpenAPI405(t *testing.T) {
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		r := apitest.Do(t, apitest.Deps(nil).Token(), method, apidoc.Path, nil, "")
		if r.Status != 405 || r.Header.Get("Allow") != "GET, HEAD" || !slices.Equal(apitest.ErrorsOf(r), []string{"Method not allowed."}) {
			t.Fatalf("%s: %d %v %s", method, r.Status, r.Header, r.Raw)
		}
	}
}
