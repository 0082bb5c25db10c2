// Package dashboard serves the merchants' key dashboard: one page, plain
// HTML, CSS and JavaScript embedded in the binary, that signs in with a key
// pair and calls the same API a server does, from the same origin. It
// holds no state and calls nothing: the browser does the work.
//
// Every file is served with a strict Content-Security-Policy (only this
// origin's scripts, styles and API; no inline script; no framing; Trusted
// Types required, so the page cannot assign a string as HTML).
package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/flexfactor/credplane/pkg/httpapi"
)

// Path is where the page is served; its assets are under Path + "/".
const Path = "/dashboard"

// Routes lists the method and path patterns this package serves; the SAM
// template must route exactly these to the function that serves them.
var Routes = []string{"GET " + Path, "GET " + Path + "/{asset}"}

// ContentSecurityPolicy is the policy of every dashboard file: scripts,
// styles, images and API calls from this origin only, nothing inline, no
// plugins, forms that cannot navigate (a form submitted without its script
// would put the AppSecret in a URL), no framing, and Trusted Types with no
// policy, so no string can ever be assigned as HTML.
const ContentSecurityPolicy = "default-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// SecurityHeaders are set on every dashboard file.
var SecurityHeaders = map[string]string{
	"Content-Security-Policy": ContentSecurityPolicy,
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
	// Revalidate every time (the ETag makes that a 304): a new release is
	// picked up at once, and the page and its scripts never disagree.
	"Cache-Control": "no-cache",
}

//go:embed index.html
var page []byte

//go:embed assets
var assets embed.FS

// contentTypes are the media types of the asset kinds; an asset of any
// other kind is not served.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// file is one servable file.
type file struct {
	body        []byte
	contentType string
	etag        string
}

func newFile(body []byte, contentType string) file {
	sum := sha256.Sum256(body)
	return file{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// pageFile is the page; assetFiles are the assets by name. Both are built
// on first use rather than at cold start.
var (
	pageFile   = sync.OnceValue(func() file { return newFile(page, "text/html; charset=utf-8") })
	assetFiles = sync.OnceValue(func() map[string]file {
		out := map[string]file{}
		entries, _ := fs.ReadDir(assets, "assets")
		for _, e := range entries {
			if ct, ok := contentTypes[path.Ext(e.Name())]; ok && !e.IsDir() {
				body, _ := fs.ReadFile(assets, "assets/"+e.Name())
				out[e.Name()] = newFile(body, ct)
			}
		}
		return out
	})
)

// Assets returns the names of the assets served under Path + "/".
func Assets() []string { return slices.Sorted(maps.Keys(assetFiles())) }

// Handler serves the page and its assets. It needs no authentication and
// no AWS call.
type Handler struct{}

// Register adds the routes to mux, and a 405 for other methods on them.
func (Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, r *http.Request) { serve(w, r, pageFile()) })
	mux.HandleFunc("GET "+Path+"/{asset}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := assetFiles()[r.PathValue("asset")]
		if !ok {
			httpapi.NotFound(w, r)
			return
		}
		serve(w, r, f)
	})
	mux.HandleFunc(Path, httpapi.MethodNotAllowed("GET, HEAD"))
	mux.HandleFunc(Path+"/{asset}", httpapi.MethodNotAllowed("GET, HEAD"))
}

// serve writes f with the security headers, or 304 when the client's copy
// is current.
func serve(w http.ResponseWriter, r *http.Request, f file) {
	h := w.Header()
	for k, v := range SecurityHeaders {
		h.Set(k, v)
	}
	h.Set("ETag", f.etag)
	if matches(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", f.contentType)
	_, _ = w.Write(f.body)
}

// matches reports whether an If-None-Match value names etag (RFC 9110
// §13.1.2: weak comparison, or "*").
func matches(ifNoneMatch, etag string) bool {
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
