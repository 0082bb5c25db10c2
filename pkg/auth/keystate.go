package auth

import (
	"context"
	"time"
)

// KeyState is what a key's record says about its standing: its merchant,
// whether it was deleted, when it expires, and which generation of its
// value is current.
type KeyState struct {
	MID       string
	Revoked   bool
	ExpiresAt *time.Time
	// Generation is the generation of the key's current value (see
	// apikey.Key.Generation).
	Generation int64
	// RolledAt is when the key got its current value; the value before it
	// keeps working until PreviousValidUntil (the grace period, empty when
	// PreviousValidUntil is not after RolledAt).
	RolledAt           *time.Time
	PreviousValidUntil *time.Time
}

// KeyRef names a key a token was minted from and the generation of the
// value that minted it.
type KeyRef struct {
	ID         string
	Generation int64
}

// Admits reports whether a token minted for merchant mid from generation
// gen of the key may still be used at now. It is dead when the key was
// deleted or has expired, when the key belongs to another merchant, and
// when gen is not the current value's: the value before it is admitted
// only during the grace period of the latest roll, and any older value
// never (a second roll ends the first grace). Generations are counted, not
// timed, so a token minted in the same second as a roll does not survive
// it. This is the one rule for access tokens (via the status cache) and
// refresh tokens alike.
func (k KeyState) Admits(mid string, gen int64, now time.Time) bool {
	switch {
	case k.Revoked, k.MID != mid:
		return false
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return false
	case gen == k.Generation:
		return true
	case gen == k.Generation-1:
		return k.inGrace(now)
	}
	return false
}

// inGrace reports whether the value before the current one still works.
func (k KeyState) inGrace(now time.Time) bool {
	return k.RolledAt != nil && k.PreviousValidUntil != nil &&
		k.PreviousValidUntil.After(*k.RolledAt) && now.Before(*k.PreviousValidUntil)
}

// KeyStates reads key records. Ids without a record are absent from the
// result (a missing record admits nothing).
type KeyStates interface {
	KeyStates(ctx context.Context, ids ...string) (map[string]KeyState, error)
}

// admitsAll reports whether every key has a record that admits a token of
// merchant mid at now; it evaluates every key, with no early exit.
func admitsAll(states map[string]KeyState, mid string, now time.Time, keys ...KeyRef) bool {
	ok := true
	for _, k := range keys {
		st, found := states[k.ID]
		ok = found && st.Admits(mid, k.Generation, now) && ok
	}
	return ok
}
