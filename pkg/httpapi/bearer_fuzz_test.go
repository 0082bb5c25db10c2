package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzRequireBearer sends any Authorization header to a protected route.
// Properties: the answer is 204 (the route ran), 401 with the RFC 6750
// challenge, or 403; never a 5xx; the same header gets the same answer.
func FuzzRequireBearer(f *testing.F) {
	h, tok, _ := guarded(f)
	for _, s := range []string{"Bearer " + tok, "bearer " + tok, "Bearer " + tok + "x", "Bearer a.b.c", "Basic Zm9vOmJhcg==", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		serve := func() *httptest.ResponseRecorder {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header["Authorization"] = []string{header}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		a, b := serve(), serve()
		if a.Code != b.Code || a.Body.String() != b.Body.String() {
			t.Fatalf("two answers for %q: %d %d", header, a.Code, b.Code)
		}
		switch a.Code {
		case http.StatusNoContent, http.StatusForbidden:
		case http.StatusUnauthorized:
			if a.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
				t.Fatalf("401 without its challenge: %v", a.Header())
			}
		default:
			t.Fatalf("%q: %d %s", header, a.Code, a.Body)
		}
	})
}
