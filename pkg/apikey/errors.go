package apikey

import (
	"errors"
	"strings"
)

// Domain errors; the HTTP layer maps each to one status and public message.
var (
	// ErrNotFound: no such key for this merchant (foreign keys look missing too).
	ErrNotFound = errors.New("api key not found")
	// ErrForeignMerchant: the request names a merchant other than the caller's.
	ErrForeignMerchant = errors.New("merchant does not match the caller")
	// ErrDuplicateDigest: a value's digest already exists (storage uniqueness).
	ErrDuplicateDigest = errors.New("duplicate key digest")
)

// ValidationError lists every problem found in a request, in field order,
// as the public messages of the contract.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string { return "invalid request: " + strings.Join(e.Problems, " ") }

// EscalationError reports scopes a caller tried to grant without holding them.
type EscalationError struct{ Scopes []string }

func (e *EscalationError) Error() string {
	return "cannot grant scopes the caller does not hold: " + strings.Join(e.Scopes, ", ")
}
