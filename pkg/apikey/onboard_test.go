package apikey

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// onboardRefused asserts that err is the "already onboarded" answer.
func onboardRefused(t *testing.T, err error) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || !slices.Equal(ve.Problems, []string{MsgAlreadyOnboarded}) {
		t.Fatalf("err = %v, want %q", err, MsgAlreadyOnboarded)
	}
}

// pairs counts the merchant's stored keys by type.
func pairs(st *fakeStore, mid string) (public, secret int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, r := range st.records {
		switch {
		case r.Key.MID != mid:
		case r.Key.Type == Public:
			public++
		case r.Key.Type == Secret:
			secret++
		}
	}
	return public, secret
}

func TestOnboardWritesThePairWithTheClaim(t *testing.T) {
	svc, st, _ := newService()
	pub, sec, err := svc.Onboard(ctx, "mid_new", "Shop")
	if err != nil {
		t.Fatal(err)
	}
	if st.onboarded["mid_new"] != sec.Key.ID {
		t.Fatalf("claim = %q, want the secret key %q", st.onboarded["mid_new"], sec.Key.ID)
	}
	for _, c := range []Created{pub, sec} {
		stored, err := st.GetKey(ctx, c.Key.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Key.LastFour != LastFour(c.Value) || c.Key.LastFour != LastFour(c.Value) || !stored.Digest.Equal(DigestOf(c.Value)) {
			t.Fatalf("%s: stored %+v for value ...%s", c.Key.Type, stored.Key, LastFour(c.Value))
		}
		if c.Key.Generation != FirstGeneration || c.Key.CreatedAt != now {
			t.Fatalf("%s: %+v", c.Key.Type, c.Key)
		}
	}
	if stored, _ := st.GetKey(ctx, sec.Key.ID); stored.Sealed == nil || st.created[1].SealedExpiresAt == nil || !st.created[1].SealedExpiresAt.Equal(now.Add(SecretReplayWindow)) {
		t.Fatalf("the secret's sealed value must expire after the replay window: %+v", st.created[1])
	}
}

// A rival onboarding that commits between this one's checks and its write
// (here: right after the listing) wins; this one is refused and writes
// nothing.
func TestOnboardLosesToARivalThatCommitsBetweenCheckAndWrite(t *testing.T) {
	svc, st, _ := newService()
	var rivalErr error
	st.afterList = func() { _, _, rivalErr = svc.Onboard(ctx, "mid_race", "rival") }
	_, _, err := svc.Onboard(ctx, "mid_race", "first")
	if rivalErr != nil {
		t.Fatalf("rival: %v", rivalErr)
	}
	onboardRefused(t, err)
	if p, s := pairs(st, "mid_race"); p != 1 || s != 1 {
		t.Fatalf("%d public and %d secret keys, want one pair", p, s)
	}
}

func TestOnboardConcurrentCallsIssueOnePair(t *testing.T) {
	svc, st, _ := newService()
	const calls = 8
	var wg sync.WaitGroup
	errs := make([]error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = svc.Onboard(ctx, "mid_many", "")
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		onboardRefused(t, err)
	}
	if p, s := pairs(st, "mid_many"); won != 1 || p != 1 || s != 1 {
		t.Fatalf("%d calls succeeded, %d public and %d secret keys; want one of each", won, p, s)
	}
}

// The listing is an index that may lag a just-committed onboarding; the
// claim's own key, read directly, still refuses a second one.
func TestOnboardRefusesThroughALaggingListing(t *testing.T) {
	svc, st, _ := newService()
	if _, _, err := svc.Onboard(ctx, "mid_lag", ""); err != nil {
		t.Fatal(err)
	}
	st.listLag = true
	_, _, err := svc.Onboard(ctx, "mid_lag", "")
	onboardRefused(t, err)
	if p, s := pairs(st, "mid_lag"); p != 1 || s != 1 {
		t.Fatalf("%d public and %d secret keys, want one pair", p, s)
	}
}

// A merchant whose onboarded secret no longer manages its keys (deleted or
// expired) may be onboarded again, once; the claim moves to the new secret.
func TestOnboardAgainAfterTheManagerIsGone(t *testing.T) {
	for name, retire := range map[string]func(*Key){
		"deleted": func(k *Key) { k.Revoked = true },
		"expired": func(k *Key) { past := now.Add(-time.Minute); k.ExpiresAt = &past },
	} {
		t.Run(name, func(t *testing.T) {
			svc, st, _ := newService()
			_, first, err := svc.Onboard(ctx, "mid_again", "")
			if err != nil {
				t.Fatal(err)
			}
			retire(&st.records[first.Key.ID].Key)
			_, second, err := svc.Onboard(ctx, "mid_again", "")
			if err != nil {
				t.Fatalf("re-onboard: %v", err)
			}
			if st.onboarded["mid_again"] != second.Key.ID {
				t.Fatalf("claim = %q, want %q", st.onboarded["mid_again"], second.Key.ID)
			}
			_, _, err = svc.Onboard(ctx, "mid_again", "")
			onboardRefused(t, err)
		})
	}
}

// A merchant onboarded before claims existed has none: its listed manager
// still refuses.
func TestOnboardRefusesAListedManagerWithoutAClaim(t *testing.T) {
	svc, st, _ := newService()
	mustCreate(t, svc, Secret, "api-keys:write")
	if st.onboarded[owner.MID] != "" {
		t.Fatal("a created key set the onboarding claim")
	}
	_, _, err := svc.Onboard(ctx, owner.MID, "")
	onboardRefused(t, err)
}

// A write that meets a contended claim (a transaction conflict, nobody
// committed) reads the claim again and retries, a bounded number of times.
func TestOnboardRetriesAContendedClaim(t *testing.T) {
	svc, st, _ := newService()
	st.conflicts = onboardAttempts - 1
	if _, _, err := svc.Onboard(ctx, "mid_contended", ""); err != nil {
		t.Fatalf("after %d conflicts: %v", onboardAttempts-1, err)
	}
	svc, st, _ = newService()
	st.conflicts = onboardAttempts
	if _, _, err := svc.Onboard(ctx, "mid_contended", ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("after %d conflicts: err = %v, want ErrConflict", onboardAttempts, err)
	}
	if p, s := pairs(st, "mid_contended"); p != 0 || s != 0 {
		t.Fatalf("%d public and %d secret keys written by a failed onboarding", p, s)
	}
}

func TestOnboardMintsAgainOnADigestCollision(t *testing.T) {
	svc, st, _ := newService()
	st.collisions = 1
	if _, _, err := svc.Onboard(ctx, "mid_collide", ""); err != nil {
		t.Fatal(err)
	}
	if p, s := pairs(st, "mid_collide"); p != 1 || s != 1 {
		t.Fatalf("%d public and %d secret keys, want one pair", p, s)
	}
}
