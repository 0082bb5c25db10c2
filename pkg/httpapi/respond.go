// Package httpapi holds what every route shares: JSON responses, request
// ids, access logs, panic recovery, body decoding, the mapping of internal
// failures to 5xx, and the bearer-token middleware.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/metrics"
)

// Public messages of the contract for failures every route shares.
const (
	MsgInternal     = "Internal error."
	MsgUnavailable  = "Service temporarily unavailable."
	MsgInvalidToken = "Authentication failed. Invalid bearer token."
	MsgNotFound     = "Not found."
	MsgMethod       = "Method not allowed."
)

// ErrorBody is the generic failure body: {"errors": [...]}.
type ErrorBody struct {
	Errors []string `json:"errors"`
}

// JSON writes v with the status as application/json.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Errors writes the generic failure body.
func Errors(w http.ResponseWriter, status int, msgs ...string) {
	JSON(w, status, ErrorBody{Errors: msgs})
}

// Internal logs err (which must hold no secrets) and answers 503 with
// Retry-After when it is apikey.ErrUnavailable (a dependency is down, slow
// or throttling) or the request's deadline passed, 500 otherwise. The body
// says nothing about the cause.
func Internal(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if unavailable(r.Context(), err) {
		log.WarnContext(r.Context(), "dependency unavailable", "error", err.Error())
		metrics.DependencyFailed(r.Context(), err)
		w.Header().Set("Retry-After", "1")
		Errors(w, http.StatusServiceUnavailable, MsgUnavailable)
		return
	}
	log.ErrorContext(r.Context(), "internal error", "error", err.Error())
	metrics.DependencyFailed(r.Context(), err)
	Errors(w, http.StatusInternalServerError, MsgInternal)
}

// unavailable reports whether a failure means "try again later": a
// dependency's adapter said so, or the request ran out of its budget,
// whichever layer noticed first and however it wrapped the deadline.
func unavailable(ctx context.Context, err error) bool {
	return errors.Is(err, apikey.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(ctx.Err(), context.DeadlineExceeded)
}
