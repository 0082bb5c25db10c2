package apikeyapi

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/httpapi"
)

// eventBody is an audit event as the trail shows it.
type eventBody struct {
	ID         string         `json:"id"`
	MID        string         `json:"mid"`
	Action     string         `json:"action"`
	KeyID      string         `json:"key_id"`
	Actor      actorBody      `json:"actor"`
	RequestID  string         `json:"request_id"`
	SourceIP   string         `json:"source_ip"`
	UserAgent  string         `json:"user_agent"`
	OccurredAt string         `json:"occurred_at"`
	Details    map[string]any `json:"details"`
}

type actorBody struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// eventsBody is the 200 body of the trail; next_cursor is null on the last page.
type eventsBody struct {
	Events     []eventBody `json:"events"`
	NextCursor *string     `json:"next_cursor"`
	Errors     []string    `json:"errors"`
}

func eventBodyOf(e audit.Event) eventBody {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	return eventBody{
		ID: e.ID, MID: e.MID, Action: e.Action, KeyID: e.KeyID,
		Actor:     actorBody{Type: e.Actor.Type, ID: e.Actor.ID},
		RequestID: e.RequestID, SourceIP: e.SourceIP, UserAgent: e.UserAgent,
		OccurredAt: e.OccurredAt.UTC().Format(time.RFC3339),
		Details:    details,
	}
}

// auditQuery validates the trail's query string and reports every problem.
func auditQuery(q url.Values, callerMID string) (audit.ListInput, []string) {
	r := newQuery(q, "mid", "key_id", "action", "limit", "cursor")
	in := audit.ListInput{MID: callerMID}
	if v, sent := r.param("mid", audit.MsgInvalidMID, apikey.ValidMID); sent {
		in.MID = v
	}
	in.KeyID, _ = r.param("key_id", audit.MsgInvalidKeyID, apikey.ValidID)
	in.Action, _ = r.param("action", audit.MsgInvalidAction, audit.ValidAction)
	in.Limit = r.limit(audit.DefaultLimit, audit.MaxLimit, audit.MsgInvalidLimit)
	in.Cursor, _ = r.param("cursor", MsgInvalidCursor, nil)
	return in, r.problems
}

// auditEvents serves GET /v1/audit-events: the merchant's trail, newest
// first. Every read of the trail is itself logged (PCI DSS 10.2.1.3).
func (h *Handler) auditEvents(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	in, problems := auditQuery(r.URL.Query(), c.MID)
	if len(problems) > 0 {
		httpapi.Errors(w, http.StatusBadRequest, problems...)
		return
	}
	page, err := h.Audit.List(r.Context(), c.MID, in)
	switch {
	case errors.Is(err, audit.ErrForeignMerchant):
		httpapi.Errors(w, http.StatusForbidden, MsgForeignMerchant)
		return
	case errors.Is(err, audit.ErrInvalidCursor):
		httpapi.Errors(w, http.StatusBadRequest, MsgInvalidCursor)
		return
	case err != nil:
		httpapi.Internal(w, r, h.Log, err)
		return
	}
	h.Log.InfoContext(r.Context(), "audit trail read", "event", "audit.read", "mid", in.MID, "actor_key_id", c.KeyID,
		"key_id", in.KeyID, "action", in.Action, "events", len(page.Events))
	b := eventsBody{Events: make([]eventBody, len(page.Events)), Errors: []string{}}
	for i, e := range page.Events {
		b.Events[i] = eventBodyOf(e)
	}
	if page.NextCursor != "" {
		b.NextCursor = &page.NextCursor
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.JSON(w, http.StatusOK, b)
}
