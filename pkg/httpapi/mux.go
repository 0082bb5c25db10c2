package httpapi

import (
	"log/slog"
	"net/http"
	"path"
	"strings"

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
	return Wrap(cleanPaths(mux), log, m)
}

// cleanPaths answers a path with "." or ".." segments or repeated slashes
// with the JSON 404 itself: ServeMux would redirect it to its clean form
// with an HTML body, and no route's path has such a form.
func cleanPaths(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		clean := path.Clean("/" + p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if p != clean {
			NotFound(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// MethodNotAllowed answers a method the path does not serve: 405 in JSON
// with the methods it does.
func MethodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		Errors(w, http.StatusMethodNotAllowed, MsgMethod)
	}
}
