package apikey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestValidIdempotencyKey(t *testing.T) {
	tests := map[string]bool{
		"":                            false,
		"a":                           true,
		"order-42 retry #1":           true,
		strings.Repeat("k", 255):      true,
		strings.Repeat("k", 256):      false,
		"tab\tinside":                 false,
		"newline\n":                   false,
		"del\x7f":                     false,
		"é":                           false,
		"~!@#$%^&*()_+{}|:\"<>?`-=[]": true,
	}
	for k, want := range tests {
		if got := ValidIdempotencyKey(k); got != want {
			t.Errorf("ValidIdempotencyKey(%q) = %v, want %v", k, got, want)
		}
	}
}

var idemInput = CreateInput{MID: owner.MID, Name: "n", Type: Secret, Scopes: []string{"charges:read"}}

func TestCreateIdempotentReplaysTheFirstResponse(t *testing.T) {
	svc, st, _ := newService()
	clk := clock(svc)
	first, replayed, err := svc.CreateIdempotent(ctx, owner, idemInput, "order-42")
	if err != nil || replayed {
		t.Fatalf("first: replayed %v, %v", replayed, err)
	}
	*clk = clk.Add(IdempotencyWindow - time.Second)
	again, replayed, err := svc.CreateIdempotent(ctx, owner, idemInput, "order-42")
	if err != nil || !replayed {
		t.Fatalf("retry: replayed %v, %v", replayed, err)
	}
	if again.Value != first.Value || again.Key.ID != first.Key.ID || !again.Key.CreatedAt.Equal(first.Key.CreatedAt) {
		t.Fatalf("replay %+v\nfirst  %+v", again, first)
	}
	if len(st.created) != 1 {
		t.Fatalf("%d keys created, want 1", len(st.created))
	}
	// After the window the key is free again: a new key.
	*clk = clk.Add(time.Second)
	later, replayed, err := svc.CreateIdempotent(ctx, owner, idemInput, "order-42")
	if err != nil || replayed || later.Key.ID == first.Key.ID {
		t.Fatalf("after 24 h: replayed %v, same id %v, %v", replayed, later.Key.ID == first.Key.ID, err)
	}
}

func TestCreateIdempotentIsScopedPerMerchant(t *testing.T) {
	svc, st, _ := newService()
	other := stranger
	in := idemInput
	if _, _, err := svc.CreateIdempotent(ctx, owner, in, "same"); err != nil {
		t.Fatal(err)
	}
	in.MID = other.MID
	if _, replayed, err := svc.CreateIdempotent(ctx, other, in, "same"); err != nil || replayed {
		t.Fatalf("other merchant: replayed %v, %v", replayed, err)
	}
	if len(st.created) != 2 {
		t.Fatalf("%d keys, want one per merchant", len(st.created))
	}
}

func TestCreateIdempotentRefusesAnotherRequestUnderTheSameKey(t *testing.T) {
	svc, st, _ := newService()
	if _, _, err := svc.CreateIdempotent(ctx, owner, idemInput, "k"); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]CreateInput{
		"other name":     {MID: owner.MID, Name: "m", Type: Secret, Scopes: []string{"charges:read"}},
		"other type":     {MID: owner.MID, Name: "n", Type: Public},
		"scopes omitted": {MID: owner.MID, Name: "n", Type: Secret},
		"other scopes":   {MID: owner.MID, Name: "n", Type: Secret, Scopes: []string{"customers:read"}},
		"with an expiry": {MID: owner.MID, Name: "n", Type: Secret, Scopes: []string{"charges:read"}, ExpiresAt: ptr(now.Add(time.Hour))},
	} {
		if _, _, err := svc.CreateIdempotent(ctx, owner, in, "k"); !errors.Is(err, ErrIdempotencyMismatch) {
			t.Errorf("%s: err = %v, want ErrIdempotencyMismatch", name, err)
		}
	}
	if len(st.created) != 1 {
		t.Fatalf("%d keys created", len(st.created))
	}
}

func TestFingerprintIgnoresTheTimeZoneOfTheExpiry(t *testing.T) {
	a, b := idemInput, idemInput
	a.ExpiresAt = ptr(now.Add(time.Hour))
	b.ExpiresAt = ptr(now.Add(time.Hour).In(time.FixedZone("CET", 3600)))
	if a.Fingerprint(owner) != b.Fingerprint(owner) {
		t.Fatal("the same instant in two zones fingerprints differently")
	}
}

func TestCreateIdempotentInFlightAndTakeOver(t *testing.T) {
	svc, st, _ := newService()
	clk := clock(svc)
	// A request that claimed the key and has not finished (or died).
	stale := IdempotencyClaim{MID: owner.MID, CallerKeyID: owner.KeyID, Key: "k", Fingerprint: idemInput.Fingerprint(owner), Token: "stale", At: now, LockedUntil: now.Add(IdempotencyLock), ExpiresAt: now.Add(IdempotencyWindow)}
	if prior, err := st.ClaimIdempotencyKey(ctx, stale); prior != nil || err != nil {
		t.Fatal(prior, err)
	}
	*clk = clk.Add(IdempotencyLock - time.Second)
	if _, _, err := svc.CreateIdempotent(ctx, owner, idemInput, "k"); !errors.Is(err, ErrIdempotencyInFlight) {
		t.Fatalf("while locked: err = %v", err)
	}
	*clk = clk.Add(time.Second)
	c, replayed, err := svc.CreateIdempotent(ctx, owner, idemInput, "k")
	if err != nil || replayed {
		t.Fatalf("after the lock: replayed %v, %v", replayed, err)
	}
	// The first request wakes up: its write fails on the claim, creating nothing.
	err = st.CreateKey(ctx, NewKey{Key: Key{ID: NewID(now), MID: owner.MID}, Digest: DigestOf("x"), Claim: &stale})
	if !errors.Is(err, ErrIdempotencyInFlight) || len(st.created) != 1 {
		t.Fatalf("stale claim completed: %v, %d keys", err, len(st.created))
	}
	if again, _, _ := svc.CreateIdempotent(ctx, owner, idemInput, "k"); again.Key.ID != c.Key.ID {
		t.Fatal("replay after take-over returned another key")
	}
}

func TestCreateIdempotentReleasesTheClaimWhenCreationFails(t *testing.T) {
	svc, st, _ := newService()
	st.collisions = 3 // every attempt collides: creation fails
	if _, _, err := svc.CreateIdempotent(ctx, owner, idemInput, "k"); !errors.Is(err, ErrDuplicateDigest) {
		t.Fatalf("err = %v", err)
	}
	if st.released != 1 {
		t.Fatalf("claim released %d times, want 1", st.released)
	}
	// The retry need not wait for the lock.
	if _, replayed, err := svc.CreateIdempotent(ctx, owner, idemInput, "k"); err != nil || replayed {
		t.Fatalf("retry: replayed %v, %v", replayed, err)
	}
}

// lostAnswer is a store whose claims are written by an attempt whose
// answer is lost, then answered by a retry, as the SDK retries a write
// whose connection broke after the service made it.
type lostAnswer struct{ *fakeStore }

func (s lostAnswer) ClaimIdempotencyKey(ctx context.Context, c IdempotencyClaim) (*IdempotencyRecord, error) {
	if _, err := s.fakeStore.ClaimIdempotencyKey(ctx, c); err != nil {
		return nil, err
	}
	return s.fakeStore.ClaimIdempotencyKey(ctx, c)
}

func TestCreateIdempotentOwnsTheClaimItsLostAttemptWrote(t *testing.T) {
	svc, st, _ := newService()
	svc.Store = lostAnswer{st}
	c, replayed, err := svc.CreateIdempotent(ctx, owner, idemInput, "k")
	if err != nil || replayed || len(st.created) != 1 {
		t.Fatalf("replayed %v, %d keys, %v", replayed, len(st.created), err)
	}
	if again, replayed, err := svc.CreateIdempotent(ctx, owner, idemInput, "k"); err != nil || !replayed || again.Key.ID != c.Key.ID {
		t.Fatalf("replay: %v %v", replayed, err)
	}
}

// deadlineStore is a store whose key writes never answer: they end with
// their context. It records the deadlines of the write and of the
// release of the claim, and whether the release had time left.
type deadlineStore struct {
	*fakeStore
	write, release time.Time
	releaseHadTime bool
}

func (s *deadlineStore) CreateKey(ctx context.Context, _ NewKey) error {
	s.write, _ = ctx.Deadline()
	<-ctx.Done()
	return fmt.Errorf("create key: %w", ctx.Err())
}

func (s *deadlineStore) ReleaseIdempotencyKey(ctx context.Context, c IdempotencyClaim) error {
	s.release, _ = ctx.Deadline()
	s.releaseHadTime = ctx.Err() == nil
	return s.fakeStore.ReleaseIdempotencyKey(ctx, c)
}

// TestCreateIdempotentKeepsTimeToRelease: a create that runs out of time
// still releases its claim, within the request's own deadline.
func TestCreateIdempotentKeepsTimeToRelease(t *testing.T) {
	svc, st, _ := newService()
	ds := &deadlineStore{fakeStore: st}
	svc.Store = ds
	budget, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	end, _ := budget.Deadline()
	if _, _, err := svc.CreateIdempotent(budget, owner, idemInput, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if !ds.write.Before(end) || !ds.release.Equal(end) || !ds.releaseHadTime || st.released != 1 {
		t.Fatalf("write until %v, release until %v (had time: %v), request until %v; released %d", ds.write, ds.release, ds.releaseHadTime, end, st.released)
	}
}

func TestCreateIdempotentCannotReplayARolledKey(t *testing.T) {
	svc, _, _ := newService()
	c, _, err := svc.CreateIdempotent(ctx, owner, idemInput, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Roll(ctx, owner, c.Key.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateIdempotent(ctx, owner, idemInput, "k"); !errors.Is(err, ErrReplayUnavailable) {
		t.Fatalf("err = %v, want ErrReplayUnavailable", err)
	}
}

func TestCreateIdempotentChecksTheRequestBeforeClaiming(t *testing.T) {
	svc, st, _ := newService()
	in := idemInput
	in.MID = stranger.MID
	if _, _, err := svc.CreateIdempotent(ctx, owner, in, "k"); !errors.Is(err, ErrForeignMerchant) {
		t.Fatalf("foreign: err = %v", err)
	}
	in = idemInput
	in.Scopes = []string{"refunds:write"}
	var esc *EscalationError
	if _, _, err := svc.CreateIdempotent(ctx, owner, in, "k"); !errors.As(err, &esc) {
		t.Fatalf("escalation: err = %v", err)
	}
	var ve *ValidationError
	if _, _, err := svc.CreateIdempotent(ctx, owner, idemInput, ""); !errors.As(err, &ve) {
		t.Fatalf("empty key: err = %v", err)
	}
	if len(st.claims) != 0 {
		t.Fatalf("%d claims recorded for refused requests", len(st.claims))
	}
}
