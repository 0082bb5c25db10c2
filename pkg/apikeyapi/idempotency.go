package apikeyapi

import (
	"encoding/json"
	"net/http"

	"github.com/flexfactor/credplane/pkg/apikey"
)

// Idempotent creation: the Idempotency-Key header, or upstream's body member
// idempotencyKey (the same value when both are sent).
const (
	headerIdempotencyKey = "Idempotency-Key"
	memberIdempotencyKey = "idempotencyKey"
)

// Public messages of idempotent creation.
const (
	// MsgIdempotencyInFlight (409, with Retry-After): the first request with
	// the key has not finished; retrying shortly replays its response.
	MsgIdempotencyInFlight = "A request with this Idempotency-Key is still in progress. Retry shortly."
	// MsgIdempotencyMismatch (422): the key was first used with another body.
	MsgIdempotencyMismatch = "This Idempotency-Key was already used with a different request body."
	// MsgReplayUnavailable (409): the key created under the idempotency key
	// was rolled or deleted since, so its first response (its old value) is
	// gone.
	MsgReplayUnavailable = "The key this request created has changed since."
	// MsgIdempotencyKeysDiffer (400): header and body member disagree.
	MsgIdempotencyKeysDiffer = "Idempotency-Key header and idempotencyKey member differ."
)

// idempotencyKey returns the request's idempotency key ("" when none) or
// the public message of what is wrong with it.
func idempotencyKey(r *http.Request, obj map[string]json.RawMessage) (string, string) {
	headers := r.Header.Values(headerIdempotencyKey)
	header, fromHeader := "", len(headers) > 0
	if fromHeader {
		if len(headers) > 1 || !apikey.ValidIdempotencyKey(headers[0]) {
			return "", apikey.MsgInvalidIdempotencyKey
		}
		header = headers[0]
	}
	raw, fromBody := obj[memberIdempotencyKey]
	if !fromBody || string(raw) == "null" {
		return header, ""
	}
	var member string
	if err := json.Unmarshal(raw, &member); err != nil || !apikey.ValidIdempotencyKey(member) {
		return "", apikey.MsgInvalidIdempotencyKey
	}
	if fromHeader && member != header {
		return "", MsgIdempotencyKeysDiffer
	}
	return member, ""
}
