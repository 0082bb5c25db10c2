package apikeyapi

import (
	"net/http"
	"net/url"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/httpapi"
)

// listBody is the 200 body of a listing; next_cursor is null on the last page.
type listBody struct {
	Keys       []keyBody `json:"keys"`
	NextCursor *string   `json:"next_cursor"`
	Errors     []string  `json:"errors"`
}

// statusAll is the status filter that includes deleted keys.
const statusAll = "all"

// listQuery validates a listing's query string and reports every problem.
// mid is the path's merchant id, or "" for GET /v1/api-keys where the mid
// parameter names it (the caller's merchant when absent).
func listQuery(q url.Values, mid string, c apikey.Caller) (apikey.ListInput, []string) {
	allowed := []string{"limit", "cursor", "status"}
	fromQuery := mid == ""
	if fromQuery {
		allowed = append(allowed, "mid")
	}
	r := newQuery(q, allowed...)
	in := apikey.ListInput{MID: mid}
	if fromQuery {
		switch v, ok := single(q, "mid"); {
		case !ok:
			in.MID = "" // repeated: reported below
		case v == "":
			in.MID = c.MID
		default:
			in.MID = v
		}
	}
	if !apikey.ValidMID(in.MID) {
		r.problems = append(r.problems, apikey.MsgInvalidMID)
	}
	in.Limit = r.limit(apikey.DefaultListLimit, apikey.MaxListLimit, apikey.MsgInvalidLimit)
	in.Cursor, _ = r.param("cursor", MsgInvalidCursor, nil)
	_, in.IncludeRevoked = r.param("status", apikey.MsgInvalidStatus, func(v string) bool { return v == statusAll })
	return in, r.problems
}

// single returns a parameter sent once; ok is false when repeated.
func single(q url.Values, name string) (string, bool) {
	vs := q[name]
	if len(vs) > 1 {
		return "", false
	}
	return q.Get(name), true
}

// list serves both listing forms; mid is the path's ("" for ?mid=).
func (h *Handler) list(w http.ResponseWriter, r *http.Request, mid string) {
	c := caller(r)
	in, problems := listQuery(r.URL.Query(), mid, c)
	if len(problems) > 0 {
		httpapi.Errors(w, http.StatusBadRequest, problems...)
		return
	}
	page, err := h.Keys.List(r.Context(), c, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.now()
	b := listBody{Keys: make([]keyBody, len(page.Keys)), Errors: []string{}}
	for i, k := range page.Keys {
		b.Keys[i] = keyBodyOf(k, now)
	}
	if page.NextCursor != "" {
		b.NextCursor = &page.NextCursor
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.JSON(w, http.StatusOK, b)
}
