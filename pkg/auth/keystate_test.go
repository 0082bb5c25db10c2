package auth

import (
	"testing"
	"time"
)

func TestKeyStateAdmits(t *testing.T) {
	t0 := time.Date(2024, 11, 16, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	tests := []struct {
		name     string
		state    KeyState
		authTime time.Time
		now      time.Time
		want     bool
	}{
		{"fresh key", KeyState{}, t0, t0.Add(time.Minute), true},
		{"revoked", KeyState{Revoked: true}, t0, t0.Add(time.Minute), false},
		{"not yet expired", KeyState{ExpiresAt: at(time.Hour)}, t0, t0.Add(time.Minute), true},
		{"expired at the instant", KeyState{ExpiresAt: at(time.Hour)}, t0, t0.Add(time.Hour), false},
		{"expired", KeyState{ExpiresAt: at(time.Hour)}, t0, t0.Add(2 * time.Hour), false},
		{"presented before roll, in grace", KeyState{RolledAt: at(time.Minute), PreviousValidUntil: at(time.Hour)}, t0, t0.Add(30 * time.Minute), true},
		{"presented before roll, grace over", KeyState{RolledAt: at(time.Minute), PreviousValidUntil: at(time.Hour)}, t0, t0.Add(time.Hour), false},
		{"presented before roll without grace", KeyState{RolledAt: at(time.Minute), PreviousValidUntil: at(time.Minute)}, t0, t0.Add(time.Minute), false},
		{"roll without a grace end", KeyState{RolledAt: at(time.Minute)}, t0, t0.Add(2 * time.Minute), false},
		{"presented at the roll (new value)", KeyState{RolledAt: at(0), PreviousValidUntil: at(0)}, t0, t0.Add(time.Hour), true},
		{"presented after the roll", KeyState{RolledAt: at(0), PreviousValidUntil: at(0)}, t0.Add(time.Second), t0.Add(time.Hour), true},
		// Rolled at +1m (grace to +1h), rolled again at +2m (grace to +3h):
		// the first grace ends at once, the second one stands.
		{"presented before an earlier roll, rolled again", KeyState{EarlierRolledAt: at(time.Minute), RolledAt: at(2 * time.Minute), PreviousValidUntil: at(3 * time.Hour)}, t0, t0.Add(3 * time.Minute), false},
		{"presented between two rolls, in the second grace", KeyState{EarlierRolledAt: at(time.Minute), RolledAt: at(2 * time.Minute), PreviousValidUntil: at(3 * time.Hour)}, t0.Add(time.Minute), t0.Add(3 * time.Minute), true},
		{"revoked beats a fresh roll", KeyState{Revoked: true, RolledAt: at(0)}, t0.Add(time.Second), t0.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.state.Admits(tt.authTime, tt.now); got != tt.want {
				t.Fatalf("Admits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAdmitsAllNeedsEveryRecord(t *testing.T) {
	now := time.Now()
	states := map[string]KeyState{"a": {}, "b": {Revoked: true}}
	if !admitsAll(states, now, now, "a") {
		t.Fatal("a stands")
	}
	if admitsAll(states, now, now, "a", "b") {
		t.Fatal("b is revoked")
	}
	if admitsAll(states, now, now, "a", "missing") {
		t.Fatal("a key without a record admits nothing")
	}
}
