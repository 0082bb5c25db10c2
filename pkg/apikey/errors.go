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
	// ErrConflict: the key record changed between its read and the write
	// that depended on it (a concurrent roll or delete).
	ErrConflict = errors.New("api key changed concurrently")
	// ErrRevoked: the operation needs a key that has not been deleted.
	ErrRevoked = errors.New("api key is revoked")
	// ErrExpired: the operation needs a key that has not expired.
	ErrExpired = errors.New("api key has expired")
	// ErrInvalidCursor: a list cursor that was altered, forged, or minted
	// for another merchant or filter.
	ErrInvalidCursor = errors.New("invalid list cursor")
	// ErrIdempotencyInFlight: another request holding the same
	// idempotency key has not finished.
	ErrIdempotencyInFlight = errors.New("idempotent request in flight")
	// ErrIdempotencyMismatch: the idempotency key was first used with a
	// different request.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with another request")
	// ErrReplayUnavailable: the key created under the idempotency key has
	// been rolled or deleted since, so its first response no longer exists.
	ErrReplayUnavailable = errors.New("idempotent response can no longer be replayed")
	// ErrUnavailable: a dependency is down, slow or throttling; the same
	// request may succeed if retried later. Adapters mark such failures
	// with it (errors.Is), keeping the cause in the chain for the logs.
	ErrUnavailable = errors.New("dependency unavailable")
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

// ScopeError refuses a roll or a delete of a key holding scopes the
// caller's token does not.
type ScopeError struct{ Scopes []string }

func (e *ScopeError) Error() string {
	return "the caller's token lacks scopes of the target key: " + strings.Join(e.Scopes, ", ")
}
