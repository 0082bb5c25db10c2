package apikeyapi

import (
	"net/http"
	"strings"

	"github.com/flexfactor/credplane/pkg/httpapi"
)

// getBody is the 200 body of GET /v1/api-keys/{id}.
type getBody struct {
	keyBody
	Errors []string `json:"errors"`
}

// getOrList serves GET /v1/api-keys/{id}: a key id starts with "key_";
// anything else is a merchant id, upstream's form of the listing.
func (h *Handler) getOrList(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if strings.HasPrefix(id, "key_") {
		h.get(w, r, id)
		return
	}
	h.list(w, r, id)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, id string) {
	v, err := h.Keys.Get(r.Context(), caller(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b := keyBodyOf(v.Key, h.now())
	if v.Value != "" {
		b.Value = &v.Value
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.JSON(w, http.StatusOK, getBody{keyBody: b, Errors: []string{}})
}
