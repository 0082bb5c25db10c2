package apikeyapi

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/metrics"
)

// rolledBody is the 200 body of a roll: the creation body with the new
// value (shown once), plus when it was rolled and when the old value stops
// working.
type rolledBody struct {
	createdBody
	RolledAt           string `json:"rolled_at"`
	PreviousValidUntil string `json:"previous_valid_until"`
}

const memberGrace = "grace_seconds"

func (h *Handler) roll(w http.ResponseWriter, r *http.Request) {
	grace, err := rollRequest(w, r)
	var be *httpapi.BodyError
	if errors.As(err, &be) {
		httpapi.Errors(w, be.Status, be.Message)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rolled, err := h.Keys.Roll(r.Context(), caller(r), r.PathValue("id"), grace)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	k := rolled.Key
	h.Log.InfoContext(r.Context(), "api key rolled", "key_id", k.ID, "mid", k.MID, "grace_seconds", int(grace/time.Second))
	metrics.Record(r.Context(), metrics.KeysRolled)
	w.Header().Set("Cache-Control", "no-store")
	httpapi.JSON(w, http.StatusOK, rolledBody{
		createdBody:        createdBodyOf(apikey.Created{Key: k, Value: rolled.Value}),
		RolledAt:           *timestamp(k.RolledAt),
		PreviousValidUntil: *timestamp(k.PreviousValidUntil),
	})
}

// rollRequest reads the optional body {"grace_seconds": 0..86400}; no body
// at all means a grace of 0. Problems come back as a *httpapi.BodyError
// (400/413/415) or an *apikey.ValidationError listing every one.
func rollRequest(w http.ResponseWriter, r *http.Request) (time.Duration, error) {
	body, err := httpapi.ReadBody(w, r)
	if err != nil {
		return 0, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return 0, nil
	}
	if !httpapi.IsJSON(r) {
		return 0, &httpapi.BodyError{Status: http.StatusUnsupportedMediaType, Message: httpapi.MsgUnsupportedMedia}
	}
	obj, err := httpapi.ParseObject(body)
	if err != nil {
		return 0, err
	}
	problems := unknownFields(obj, memberGrace)
	var grace time.Duration
	if raw, ok := obj[memberGrace]; ok && string(raw) != "null" {
		// An integer literal only: not "60", 60.0 or 6e1.
		secs, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
		if err != nil || secs < 0 || secs > int64(apikey.MaxGrace/time.Second) {
			problems = append(problems, apikey.MsgInvalidGrace)
		}
		grace = time.Duration(secs) * time.Second
	}
	if len(problems) > 0 {
		return 0, &apikey.ValidationError{Problems: problems}
	}
	return grace, nil
}
