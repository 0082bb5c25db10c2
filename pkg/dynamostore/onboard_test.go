package dynamostore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/flexfactor/credplane/pkg/apikey"
)

// newMID is a merchant no earlier run of the tests onboarded.
func newMID() string { return "mid_" + strings.ToLower(rand.Text()[:12]) }

// onboarding is a fresh pair for mid, to be written over claim seen.
func onboarding(t *testing.T, mid, seen string) apikey.Onboarding {
	t.Helper()
	pub, _ := newKey(t, mid, apikey.Public)
	sec, _ := newKey(t, mid, apikey.Secret)
	return apikey.Onboarding{Public: pub, Secret: sec, Seen: seen}
}

// pairItems counts the items a pair's write leaves: two per key (record,
// sealed value) and its digest lookups.
func pairItems(t *testing.T, o apikey.Onboarding) int {
	t.Helper()
	return countItems(t,
		"KEY#"+o.Public.Key.ID, "KEY#"+o.Secret.Key.ID,
		"DIGEST#"+hex.EncodeToString(o.Public.Digest[:]), "DIGEST#"+hex.EncodeToString(o.Secret.Digest[:]))
}

func claimIs(t *testing.T, mid, want string) {
	t.Helper()
	got, err := store().OnboardingClaim(context.Background(), mid)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("claim of %s = %q, want %q", mid, got, want)
	}
}

func TestOnboardWritesBothKeysAndTheClaim(t *testing.T) {
	mid := newMID()
	ctx := context.Background()
	claimIs(t, mid, "")
	o := onboarding(t, mid, "")
	if err := store().Onboard(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got := pairItems(t, o); got != 6 {
		t.Fatalf("%d items, want 6 (record, sealed value and lookup of each key)", got)
	}
	claimIs(t, mid, o.Secret.Key.ID)
	pub, sec, err := store().LookupCredentials(ctx, o.Public.Digest, o.Secret.Digest)
	if err != nil || pub == nil || sec == nil || pub.KeyID != o.Public.Key.ID || sec.KeyID != o.Secret.Key.ID {
		t.Fatalf("lookups = %+v, %+v, %v", pub, sec, err)
	}
	got, err := store().GetKey(ctx, o.Secret.Key.ID)
	if err != nil || got.Key.MID != mid || got.Sealed == nil {
		t.Fatalf("secret record = %+v, %v", got, err)
	}
}

// The claim moves only from the value read: a write over a claim read as
// absent, or as an earlier secret, fails and writes nothing.
func TestOnboardIsConditionedOnTheClaimRead(t *testing.T) {
	mid := newMID()
	ctx := context.Background()
	first := onboarding(t, mid, "")
	if err := store().Onboard(ctx, first); err != nil {
		t.Fatal(err)
	}
	for name, seen := range map[string]string{"absent": "", "another secret": "key_stale"} {
		late := onboarding(t, mid, seen)
		if err := store().Onboard(ctx, late); !errors.Is(err, apikey.ErrConflict) {
			t.Fatalf("claim read as %s: err = %v, want ErrConflict", name, err)
		}
		if got := pairItems(t, late); got != 0 {
			t.Fatalf("claim read as %s: a refused onboarding left %d items", name, got)
		}
		claimIs(t, mid, first.Secret.Key.ID)
	}
	// Recovery: a write over the claim as it stands moves it.
	again := onboarding(t, mid, first.Secret.Key.ID)
	if err := store().Onboard(ctx, again); err != nil {
		t.Fatal(err)
	}
	claimIs(t, mid, again.Secret.Key.ID)
}

func TestOnboardDuplicateDigestWritesNothing(t *testing.T) {
	mid := newMID()
	ctx := context.Background()
	taken, _ := newKey(t, mid, apikey.Public)
	if err := store().CreateKey(ctx, taken); err != nil {
		t.Fatal(err)
	}
	for _, which := range []string{"public", "secret"} {
		o := onboarding(t, mid, "")
		if which == "public" {
			o.Public.Digest = taken.Digest
		} else {
			o.Secret.Digest = taken.Digest
		}
		if err := store().Onboard(ctx, o); !errors.Is(err, apikey.ErrDuplicateDigest) {
			t.Fatalf("%s digest taken: err = %v, want ErrDuplicateDigest", which, err)
		}
		if got := countItems(t, "KEY#"+o.Public.Key.ID, "KEY#"+o.Secret.Key.ID); got != 0 {
			t.Fatalf("%s digest taken: %d items left behind", which, got)
		}
		claimIs(t, mid, "")
	}
}

// Concurrent writes over the same claim read: exactly one commits.
func TestOnboardConcurrentWritesCommitOne(t *testing.T) {
	mid := newMID()
	const writers = 8
	all := make([]apikey.Onboarding, writers)
	errs := make([]error, writers)
	for i := range all {
		all[i] = onboarding(t, mid, "")
	}
	var wg sync.WaitGroup
	for i := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = store().Onboard(context.Background(), all[i])
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writes %d and %d both committed", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, apikey.ErrConflict):
			t.Fatalf("write %d: err = %v, want ErrConflict", i, err)
		case pairItems(t, all[i]) != 0:
			t.Fatalf("refused write %d left items behind", i)
		}
	}
	if winner < 0 {
		t.Fatal("no write committed")
	}
	claimIs(t, mid, all[winner].Secret.Key.ID)
}
