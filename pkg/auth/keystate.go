package auth

import (
	"context"
	"time"
)

// KeyState is what a key's record says about its standing: whether it was
// deleted, when it expires, and when its value was last rolled.
type KeyState struct {
	Revoked   bool
	ExpiresAt *time.Time
	// RolledAt is when the key got a new value; the value before it keeps
	// working until PreviousValidUntil (the grace period).
	RolledAt           *time.Time
	PreviousValidUntil *time.Time
	// EarlierRolledAt is the roll before the last one: rolling again ends
	// the earlier grace period at once, so a pair presented before it is
	// dead whatever the latest grace says.
	EarlierRolledAt *time.Time
}

// Admits reports whether a token minted from a key pair presented at
// authTime may still be used at now. It is dead when the key was deleted,
// when the key has expired, or when the pair was presented before a roll
// whose grace period is over. This is the one rule for access tokens (via
// the status cache) and refresh tokens alike.
func (k KeyState) Admits(authTime, now time.Time) bool {
	switch {
	case k.Revoked:
		return false
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return false
	case k.EarlierRolledAt != nil && authTime.Before(*k.EarlierRolledAt):
		return false
	case k.RolledAt != nil && authTime.Before(*k.RolledAt) &&
		(k.PreviousValidUntil == nil || !now.Before(*k.PreviousValidUntil)):
		return false
	}
	return true
}

// KeyStates reads key records. Ids without a record are absent from the
// result (a missing record admits nothing).
type KeyStates interface {
	KeyStates(ctx context.Context, ids ...string) (map[string]KeyState, error)
}

// admitsAll reports whether every id has a record that admits authTime at
// now; it evaluates every id, with no early exit.
func admitsAll(states map[string]KeyState, authTime, now time.Time, ids ...string) bool {
	ok := true
	for _, id := range ids {
		st, found := states[id]
		ok = found && st.Admits(authTime, now) && ok
	}
	return ok
}
