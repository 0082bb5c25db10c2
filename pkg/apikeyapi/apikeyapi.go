// Package apikeyapi serves the /v1/api-keys routes over net/http.
package apikeyapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/scope"
)

// Handler serves key management for authenticated merchants.
type Handler struct {
	Keys   *apikey.Service
	Audit  *audit.Service
	Bearer *httpapi.Bearer
	Log    *slog.Logger
	// Now is the clock for validation; nil means time.Now.
	Now func() time.Time
}

// Routes lists the method and path patterns this handler serves; the SAM
// template must route exactly these to the function.
var Routes = []string{
	"POST /v1/api-keys",
	"GET /v1/api-keys",
	"GET /v1/api-keys/{id}",
	"DELETE /v1/api-keys/{id}",
	"POST /v1/api-keys/{id}/roll",
	"GET /v1/audit-events",
}

// Register adds the routes to mux. Reading keys needs api-keys:read;
// creating, deleting and rolling them need api-keys:write. Other methods on
// these paths answer 405 in JSON.
func (h *Handler) Register(mux *http.ServeMux) {
	read := func(f http.HandlerFunc) http.Handler { return h.Bearer.Require(scope.APIKeysRead, f) }
	write := func(f http.HandlerFunc) http.Handler { return h.Bearer.Require(scope.APIKeysWrite, f) }
	mux.Handle("POST /v1/api-keys", write(h.create))
	mux.Handle("GET /v1/api-keys", read(func(w http.ResponseWriter, r *http.Request) { h.list(w, r, "") }))
	mux.Handle("GET /v1/api-keys/{id}", read(h.getOrList))
	mux.Handle("DELETE /v1/api-keys/{id}", write(h.delete))
	mux.Handle("POST /v1/api-keys/{id}/roll", write(h.roll))
	mux.HandleFunc("/v1/api-keys", httpapi.MethodNotAllowed("GET, POST"))
	mux.HandleFunc("/v1/api-keys/{id}", httpapi.MethodNotAllowed("GET, DELETE"))
	mux.HandleFunc("/v1/api-keys/{id}/roll", httpapi.MethodNotAllowed("POST"))
	mux.Handle("GET /v1/audit-events", read(h.auditEvents))
	mux.HandleFunc("/v1/audit-events", httpapi.MethodNotAllowed("GET, HEAD"))
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
