package auth

import "errors"

// Refusal reasons: why a key pair or a refresh token was refused. They are
// for logs and metrics only; the answer is the same for every reason, so
// nothing can be probed.
const (
	ReasonMalformed      = "malformed"       // shape or checksum wrong: no read made
	ReasonUnknownKey     = "unknown_key"     // a value names no key of this stage
	ReasonWrongType      = "wrong_type"      // AppKey not a public key, or AppSecret not a secret one
	ReasonPairMismatch   = "pair_mismatch"   // the two keys belong to different merchants
	ReasonExpired        = "expired"         // a key expired, or a refresh family ended
	ReasonGraceOver      = "grace_over"      // an old value presented after its grace period
	ReasonRevoked        = "revoked"         // a key deleted, or rolled past the value, meanwhile
	ReasonRefreshRevoked = "refresh_revoked" // the refresh token's family was revoked
	ReasonRefreshReused  = "refresh_reused"  // a rotated refresh token came back: family revoked
	ReasonOtherClient    = "other_client"    // the refresh token was issued to another key pair
	ReasonKeyGone        = "key_gone"        // a key behind the refresh token no longer admits it
	ReasonRateLimited    = "rate_limited"    // the secret key obtained its tokens of the minute
)

// Refused is a refused key pair or refresh token with its internal reason.
// It matches ErrInvalidCredentials or ErrInvalidGrant with errors.Is, so the
// public answer never depends on the reason.
type Refused struct {
	Err    error // ErrInvalidCredentials or ErrInvalidGrant
	Reason string
}

func (r *Refused) Error() string { return r.Err.Error() + " (" + r.Reason + ")" }

// Unwrap lets errors.Is see the public error.
func (r *Refused) Unwrap() error { return r.Err }

func refusedPair(reason string) error  { return &Refused{Err: ErrInvalidCredentials, Reason: reason} }
func refusedGrant(reason string) error { return &Refused{Err: ErrInvalidGrant, Reason: reason} }

// ReasonOf returns the internal reason of a refusal ("" when err is none).
func ReasonOf(err error) string {
	var r *Refused
	switch {
	case errors.As(err, &r):
		return r.Reason
	case errors.Is(err, ErrRateLimited):
		return ReasonRateLimited
	}
	return ""
}
