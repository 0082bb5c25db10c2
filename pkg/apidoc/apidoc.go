// Package apidoc serves the API description: an OpenAPI 3.1 document of
// every route, parameter, body, status and header of the contract. The
// document is a committed file embedded in the binary, and the HTTP tests
// (pkg/apitest) validate every request and response against it, so it
// cannot drift from the service.
package apidoc

import (
	_ "embed"
	"net/http"

	"github.com/flexfactor/credplane/pkg/httpapi"
)

// Document is the OpenAPI 3.1 document, as served.
//
//go:embed openapi.json
var Document []byte

// Path is where the document is served.
const Path = "/v1/openapi.json"

// MaxAge is how long clients may cache the document, in seconds.
const MaxAge = "300"

// Routes lists the method and path patterns this package serves; the SAM
// template must route exactly these to the function that serves them.
var Routes = []string{"GET " + Path}

// Handler serves the document. It needs no authentication and no AWS call.
type Handler struct{}

// Register adds the route to mux, and a 405 for other methods on it.
func (Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Path, serve)
	mux.HandleFunc(Path, httpapi.MethodNotAllowed("GET, HEAD"))
}

func serve(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age="+MaxAge)
	_, _ = w.Write(Document)
}
