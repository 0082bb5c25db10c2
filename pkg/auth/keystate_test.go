package auth

import (
	"testing"
	"time"
)

func TestKeyStateAdmits(t *testing.T) {
	t0 := time.Date(2024, 11, 16, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	// A key rolled at +1m whose old value keeps working until +1h.
	inGrace := KeyState{MID: "m", Generation: 2, RolledAt: at(time.Minute), PreviousValidUntil: at(time.Hour)}
	// A key rolled at +1m with no grace (previous_valid_until = rolled_at).
	noGrace := KeyState{MID: "m", Generation: 2, RolledAt: at(time.Minute), PreviousValidUntil: at(time.Minute)}
	tests := []struct {
		name  string
		state KeyState
		mid   string
		gen   int64
		now   time.Time
		want  bool
	}{
		{"fresh key", KeyState{MID: "m", Generation: 1}, "m", 1, t0, true},
		{"another merchant's key", KeyState{MID: "other", Generation: 1}, "m", 1, t0, false},
		{"a token without a generation", KeyState{MID: "m", Generation: 1}, "m", 0, t0, false},
		{"a generation the key never had", KeyState{MID: "m", Generation: 1}, "m", 2, t0, false},
		{"revoked", KeyState{MID: "m", Generation: 1, Revoked: true}, "m", 1, t0, false},
		{"not yet expired", KeyState{MID: "m", Generation: 1, ExpiresAt: at(time.Hour)}, "m", 1, t0.Add(time.Minute), true},
		{"expired at the instant", KeyState{MID: "m", Generation: 1, ExpiresAt: at(time.Hour)}, "m", 1, t0.Add(time.Hour), false},
		{"old value in grace", inGrace, "m", 1, t0.Add(30 * time.Minute), true},
		{"old value, grace over", inGrace, "m", 1, t0.Add(time.Hour), false},
		{"new value during the grace", inGrace, "m", 2, t0.Add(30 * time.Minute), true},
		{"old value, no grace, same second as the roll", noGrace, "m", 1, t0.Add(time.Minute), false},
		// A clock that runs behind the roller's still sees no grace: a grace
		// exists only when it ends after the roll.
		{"old value, no grace, clock behind the roll", noGrace, "m", 1, t0, false},
		{"new value after a roll without grace", noGrace, "m", 2, t0.Add(time.Minute), true},
		{"roll without a grace end", KeyState{MID: "m", Generation: 2, RolledAt: at(time.Minute)}, "m", 1, t0, false},
		// Rolled twice: generation 1 is dead even inside the second grace.
		{"two rolls back, in the latest grace", KeyState{MID: "m", Generation: 3, RolledAt: at(2 * time.Minute), PreviousValidUntil: at(3 * time.Hour)}, "m", 1, t0.Add(3 * time.Minute), false},
		{"one roll back, in the latest grace", KeyState{MID: "m", Generation: 3, RolledAt: at(2 * time.Minute), PreviousValidUntil: at(3 * time.Hour)}, "m", 2, t0.Add(3 * time.Minute), true},
		{"revoked beats a current value", KeyState{MID: "m", Generation: 2, Revoked: true, RolledAt: at(0)}, "m", 2, t0.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.state.Admits(tt.mid, tt.gen, tt.now); got != tt.want {
				t.Fatalf("Admits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAdmitsAllNeedsEveryRecord(t *testing.T) {
	now := time.Now()
	states := map[string]KeyState{"a": {MID: "m", Generation: 1}, "b": {MID: "m", Generation: 1, Revoked: true}}
	if !admitsAll(states, "m", now, KeyRef{"a", 1}) {
		t.Fatal("a stands")
	}
	if admitsAll(states, "m", now, KeyRef{"a", 1}, KeyRef{"b", 1}) {
		t.Fatal("b is revoked")
	}
	if admitsAll(states, "m", now, KeyRef{"a", 1}, KeyRef{"missing", 1}) {
		t.Fatal("a key without a record admits nothing")
	}
	if admitsAll(states, "other", now, KeyRef{"a", 1}) {
		t.Fatal("a stands for merchant m only")
	}
}
