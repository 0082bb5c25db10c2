package apikeyapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/scope"
)

// Public messages of the lifecycle routes.
const (
	MsgKeyNotFound   = "API key not found."
	MsgInvalidCursor = "Invalid cursor."
	// MsgKeyChanged (409): the key was rolled or deleted by another request
	// between this one's read and its write; nothing was changed.
	MsgKeyChanged = "The API key was changed by another request. Read it again and retry."
	MsgKeyRevoked = "The API key has been deleted."
	MsgKeyExpired = "The API key has expired."
	// MsgLastManager warns (in a 200) that no active secret key of the
	// merchant can manage API keys any more.
	MsgLastManager = "This was the merchant's last active secret key holding api-keys:write; no remaining key can manage API keys."
)

// problem is the public form of a domain error.
type problem struct {
	Status   int
	Messages []string
	// RetryAfter asks the client to retry shortly (409 in flight).
	RetryAfter bool
	// Challenge, when set, is the scope of an insufficient_scope
	// WWW-Authenticate challenge.
	Challenge string
}

// problemOf maps every domain error of the api-keys routes to its status
// and public messages; ok is false for an internal failure, which callers
// answer with httpapi.Internal.
func problemOf(err error) (p problem, ok bool) {
	var ve *apikey.ValidationError
	var esc *apikey.EscalationError
	var se *apikey.ScopeError
	one := func(status int, msg string) (problem, bool) {
		return problem{Status: status, Messages: []string{msg}}, true
	}
	switch {
	case errors.Is(err, apikey.ErrNotFound):
		return one(http.StatusNotFound, MsgKeyNotFound)
	case errors.Is(err, apikey.ErrForeignMerchant):
		return one(http.StatusForbidden, MsgForeignMerchant)
	case errors.As(err, &esc):
		return one(http.StatusForbidden, msgEscalation+strings.Join(esc.Scopes, ", ")+".")
	case errors.As(err, &se):
		// The generic forbidden answer, as for a token without the route's
		// scope, naming the scopes needed (RFC 6750 §3).
		return problem{Status: http.StatusForbidden, Messages: []string{httpapi.MsgForbiddenScope}, Challenge: scope.Join(se.Scopes)}, true
	case errors.As(err, &ve):
		return problem{Status: http.StatusBadRequest, Messages: ve.Problems}, true
	case errors.Is(err, apikey.ErrInvalidCursor):
		return one(http.StatusBadRequest, MsgInvalidCursor)
	case errors.Is(err, apikey.ErrConflict):
		return one(http.StatusConflict, MsgKeyChanged)
	case errors.Is(err, apikey.ErrRevoked):
		return one(http.StatusConflict, MsgKeyRevoked)
	case errors.Is(err, apikey.ErrExpired):
		return one(http.StatusConflict, MsgKeyExpired)
	case errors.Is(err, apikey.ErrIdempotencyInFlight):
		return problem{Status: http.StatusConflict, Messages: []string{MsgIdempotencyInFlight}, RetryAfter: true}, true
	case errors.Is(err, apikey.ErrReplayUnavailable):
		return one(http.StatusConflict, MsgReplayUnavailable)
	case errors.Is(err, apikey.ErrIdempotencyMismatch):
		return one(http.StatusUnprocessableEntity, MsgIdempotencyMismatch)
	}
	return problem{}, false
}

// fail answers err in the generic {"errors": [...]} shape, or as an
// internal failure.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := problemOf(err)
	if !ok {
		httpapi.Internal(w, r, h.Log, err)
		return
	}
	p.writeHeader(w)
	httpapi.Errors(w, p.Status, p.Messages...)
}

func (p problem) writeHeader(w http.ResponseWriter) {
	if p.RetryAfter {
		w.Header().Set("Retry-After", "1")
	}
	if p.Challenge != "" {
		httpapi.InsufficientScope(w, p.Challenge)
	}
}
