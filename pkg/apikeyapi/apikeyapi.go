// Package apikeyapi serves the /v1/api-keys routes over net/http.
package apikeyapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/scope"
)

// Handler serves key management for authenticated merchants.
type Handler struct {
	Keys   *apikey.Service
	Bearer *httpapi.Bearer
	Log    *slog.Logger
	// Now is the clock for validation; nil means time.Now.
	Now func() time.Time
}

// Routes lists the method and path patterns this handler serves; the SAM
// template must route exactly these to the function.
var Routes = []string{
	"POST /v1/api-keys",
}

// Register adds the routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST /v1/api-keys", h.Bearer.Require(scope.APIKeysWrite, http.HandlerFunc(h.create)))
	mux.HandleFunc("/v1/api-keys", methodNotAllowed)
}

// New returns the complete handler of the api-keys function.
func New(h *Handler) http.Handler {
	mux := http.NewServeMux()
	h.Register(mux)
	mux.HandleFunc("/", httpapi.NotFound)
	return httpapi.Wrap(mux, h.Log)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	httpapi.Errors(w, http.StatusMethodNotAllowed, httpapi.MsgMethod)
}
