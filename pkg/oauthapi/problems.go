package oauthapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/flexfactor/credplane/pkg/auth"
)

// refusal is the public form of a domain error of the token routes, in
// both request shapes: upstream's JSON message and RFC 6749's error.
type refusal struct {
	// Status, Code and Desc are the OAuth answer; an invalid_client answer
	// also carries the Basic challenge.
	Status int
	Code   string
	Desc   string
	// Upstream is the message of upstream's shape (see upstreamStatus).
	Upstream string
}

// upstreamStatus is the status of the refusal in upstream's shape: 400 for
// every refusal but a rate limit's 429.
func (p refusal) upstreamStatus() int {
	if p.Status == http.StatusTooManyRequests {
		return p.Status
	}
	return http.StatusBadRequest
}

// refusalOf maps every domain error of the token routes to its public
// answer; ok is false for an internal failure.
func refusalOf(err error) (refusal, bool) {
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		return refusal{http.StatusUnauthorized, CodeInvalidClient, DescInvalidClient, MsgInvalidCredentials}, true
	case errors.Is(err, auth.ErrInvalidGrant):
		return refusal{http.StatusBadRequest, CodeInvalidGrant, DescInvalidGrant, MsgInvalidRefresh}, true
	case errors.Is(err, auth.ErrInvalidScope):
		// Upstream's shape cannot ask for a scope; the message is OAuth's.
		return refusal{http.StatusBadRequest, CodeInvalidScope, DescInvalidScope, DescInvalidScope}, true
	case errors.Is(err, auth.ErrRateLimited):
		return refusal{http.StatusTooManyRequests, CodeTooManyRequests, MsgTooManyRequests, MsgTooManyRequests}, true
	}
	return refusal{}, false
}

// retryAfter tells a client refused for its key's rate when to come back:
// the whole seconds left until the next minute, rounded up so that a
// client that waits that long is not refused again for the same minute.
func retryAfter(w http.ResponseWriter, err error) {
	if d := auth.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
}

// oauthRefuse answers a refusal in RFC 6749's shape and logs it with the
// internal reason of err.
func (h *Handler) oauthRefuse(w http.ResponseWriter, r *http.Request, p refusal, err error) {
	if p.Code == CodeInvalidClient {
		// RFC 6749 §5.2 and RFC 7235: a 401 carries the Basic challenge.
		w.Header().Set("WWW-Authenticate", `Basic realm="`+h.Realm+`", charset="UTF-8"`)
	}
	retryAfter(w, err)
	h.refused(r, "oauth2", p.Code, auth.ReasonOf(err))
	writeOAuthError(w, p.Status, p.Code, p.Desc)
}
