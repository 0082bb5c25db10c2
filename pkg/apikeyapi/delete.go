package apikeyapi

import (
	"net/http"

	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/metrics"
)

// msgDeleted is upstream's delete result.
const msgDeleted = "API key deleted successfully."

// deleteBody is upstream's delete answer, success and failure alike; ours
// adds warnings, present only when there is one.
type deleteBody struct {
	Status   string   `json:"status"`
	Success  bool     `json:"success"`
	Result   *string  `json:"result"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings,omitempty"`
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	d, err := h.Keys.Delete(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		p, ok := problemOf(err)
		switch {
		case !ok:
			httpapi.Internal(w, r, h.Log, err)
		case p.Status == http.StatusForbidden:
			h.fail(w, r, err) // the generic forbidden body, as on every route
		default:
			httpapi.JSON(w, p.Status, deleteBody{Status: "FAILED", Errors: p.Messages})
		}
		return
	}
	result := msgDeleted
	b := deleteBody{Status: "SUCCESS", Success: true, Result: &result, Errors: []string{}}
	if d.LastManager {
		b.Warnings = []string{MsgLastManager}
	}
	h.Log.InfoContext(r.Context(), "api key deleted", "key_id", d.Key.ID, "mid", d.Key.MID, "last_manager", d.LastManager)
	metrics.Record(r.Context(), metrics.KeysDeleted)
	httpapi.JSON(w, http.StatusOK, b)
}
