package apikey

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// An idempotent create writes its claim while the new value's data key is
// made: the answers must be those of the claim first, then the data key.

// liveness bounds a wait that only a defect makes long.
const liveness = 10 * time.Second

// waitCanceled makes the sealer wait for its context to end and report on
// canceled whether it did.
func waitCanceled(se *fakeSealer) chan bool {
	canceled := make(chan bool, 1)
	se.wait = func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			canceled <- true
			return ctx.Err()
		case <-time.After(liveness):
			canceled <- false
			return nil
		}
	}
	return canceled
}

func TestCreateIdempotentMintsWhileClaiming(t *testing.T) {
	svc, st, se := newService()
	claiming := make(chan struct{})
	st.onClaim = func() { close(claiming) }
	se.wait = func(context.Context) error {
		select {
		case <-claiming:
			return nil
		case <-time.After(liveness):
			return errors.New("the claim was not written while the data key was made")
		}
	}
	if _, _, err := svc.CreateIdempotent(ctx, owner, idemInput, "k"); err != nil {
		t.Fatal(err)
	}
}

// TestCreateIdempotentDataKeyFails: the answer is the data key's failure,
// nothing is created, and the claim is released, so a retry goes ahead.
func TestCreateIdempotentDataKeyFails(t *testing.T) {
	svc, st, se := newService()
	se.fail = fmt.Errorf("generate data key: %w", ErrUnavailable)
	if _, _, err := svc.CreateIdempotent(ctx, owner, idemInput, "k"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if len(st.created) != 0 || st.released != 1 {
		t.Fatalf("%d keys created, claim released %d times", len(st.created), st.released)
	}
	se.fail = nil
	if _, replayed, err := svc.CreateIdempotent(ctx, owner, idemInput, "k"); err != nil || replayed {
		t.Fatalf("retry: replayed %v, %v", replayed, err)
	}
}

// TestCreateIdempotentClaimFails: the answer is the claim's failure, and
// the data key is canceled.
func TestCreateIdempotentClaimFails(t *testing.T) {
	svc, st, se := newService()
	st.claimErr = fmt.Errorf("put: %w", ErrUnavailable)
	canceled := waitCanceled(se)
	_, _, err := svc.CreateIdempotent(ctx, owner, idemInput, "k")
	if !errors.Is(err, ErrUnavailable) || !<-canceled {
		t.Fatalf("err = %v; data key canceled: see above", err)
	}
	if len(st.created) != 0 || st.released != 0 {
		t.Fatalf("%d keys created, claim released %d times", len(st.created), st.released)
	}
}

// TestCreateIdempotentAnsweredByItsClaim: a replay, a mismatch or a request
// in flight creates nothing, and its data key is canceled.
func TestCreateIdempotentAnsweredByItsClaim(t *testing.T) {
	svc, st, se := newService()
	first, _, err := svc.CreateIdempotent(ctx, owner, idemInput, "k")
	if err != nil {
		t.Fatal(err)
	}
	other := idemInput
	other.Name = "another"
	pending := IdempotencyClaim{MID: owner.MID, CallerKeyID: owner.KeyID, Key: "pending", Fingerprint: idemInput.Fingerprint(owner), Token: "t",
		At: now, LockedUntil: now.Add(IdempotencyLock), ExpiresAt: now.Add(IdempotencyWindow)}
	if prior, err := st.ClaimIdempotencyKey(ctx, pending); prior != nil || err != nil {
		t.Fatal(prior, err)
	}
	for _, tt := range []struct {
		name string
		in   CreateInput
		key  string
		want error
	}{
		{"replay", idemInput, "k", nil},
		{"mismatch", other, "k", ErrIdempotencyMismatch},
		{"in flight", idemInput, "pending", ErrIdempotencyInFlight},
	} {
		canceled := waitCanceled(se)
		c, _, err := svc.CreateIdempotent(ctx, owner, tt.in, tt.key)
		if !errors.Is(err, tt.want) || (tt.want == nil && c.Value != first.Value) {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !<-canceled {
			t.Fatalf("%s: the data key was not canceled", tt.name)
		}
	}
	if len(st.created) != 1 {
		t.Fatalf("%d keys created", len(st.created))
	}
}
