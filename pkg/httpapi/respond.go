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

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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
// Retry-After when the cause is transient, 500 otherwise. The body says
// nothing about the cause.
func Internal(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if Transient(err) {
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

// transientCodes are AWS error codes that mean "try again shortly".
var transientCodes = map[string]bool{
	"ThrottlingException":                    true,
	"ProvisionedThroughputExceededException": true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"KMSInternalException":                   true,
	"DependencyTimeoutException":             true,
	"LimitExceededException":                 true,
	"TransactionConflictException":           true,
}

// Transient reports whether err is a throttle, timeout or outage of a
// dependency rather than a defect: an AWS error code that means "try again",
// a deadline, or a request that could not be sent at all (the SDK has
// already retried it).
func Transient(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) && transientCodes[api.ErrorCode()] {
		return true
	}
	var send *smithyhttp.RequestSendError
	return errors.As(err, &send) || errors.Is(err, context.DeadlineExceeded)
}
