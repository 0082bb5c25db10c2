package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/flexfactor/credplane/pkg/metrics"
)

// Routes is a group of routes that adds itself to a mux.
type Routes interface {
	Register(mux *http.ServeMux)
}

// Handler is the one way a function's handler is built: every group on one
// mux, a JSON 404 for any other path, wrapped in the shared middleware
// (request id, access log, metrics, panic recovery).
func Handler(log *slog.Logger, m *metrics.Writer, groups ...Routes) http.Handler {
	mux := http.NewServeMux()
	for _, g := range groups {
		g.Register(mux)
	}
	mux.HandleFunc("/", NotFound)
	return Wrap(mux, log, m)
}

// MethodNotAllowed answers a method the path does not serve: 405 in JSON
// with the methods it does.
func MethodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		Errors(w, http.StatusMethodNotAllowed, MsgMethod)
	}
}
