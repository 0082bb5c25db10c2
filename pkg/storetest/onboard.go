package storetest

import (
	"errors"
	"sync"

	"github.com/flexfactor/credplane/pkg/apikey"
)

// onboarding is a first pair of the fixture's merchant, moving the claim
// from seen.
func (f *fixture) onboarding(seen string) apikey.Onboarding {
	return apikey.Onboarding{Public: f.newKey(apikey.Public), Secret: f.newKey(apikey.Secret), Seen: seen}
}

var onboardCases = []contractCase{
	{"an unknown merchant has no claim", func(f *fixture) {
		if got, err := f.st.OnboardingClaim(f.ctx, f.mid); got != "" || err != nil {
			f.Fatalf("claim %q, %v", got, err)
		}
	}},
	{"onboarding writes both keys and claims the merchant", func(f *fixture) {
		o := f.onboarding("")
		if err := f.st.Onboard(f.ctx, o); err != nil {
			f.Fatal(err)
		}
		for _, nk := range []apikey.NewKey{o.Public, o.Secret} {
			if sk := f.get(nk.Key.ID); !sk.Digest.Equal(nk.Digest) || sk.Sealed == nil {
				f.Fatalf("stored %s", showStored(sk))
			}
			if c := f.lookup(nk.Digest); c == nil || c.KeyID != nk.Key.ID {
				f.Fatalf("lookup %s", showCredential(c))
			}
		}
		if got, _ := f.st.OnboardingClaim(f.ctx, f.mid); got != o.Secret.Key.ID {
			f.Fatalf("claim %q, want %q", got, o.Secret.Key.ID)
		}
	}},
	{"onboarding again moves the claim from the one read", func(f *fixture) {
		first := f.onboarding("")
		if err := f.st.Onboard(f.ctx, first); err != nil {
			f.Fatal(err)
		}
		again := f.onboarding(first.Secret.Key.ID)
		if err := f.st.Onboard(f.ctx, again); err != nil {
			f.Fatal(err)
		}
		if got, _ := f.st.OnboardingClaim(f.ctx, f.mid); got != again.Secret.Key.ID {
			f.Fatalf("claim %q", got)
		}
	}},
	{"a claim that moved since it was read refuses the write and writes nothing", func(f *fixture) {
		if err := f.st.Onboard(f.ctx, f.onboarding("")); err != nil {
			f.Fatal(err)
		}
		for _, seen := range []string{"", "key_not_the_claim"} {
			late := f.onboarding(seen)
			if err := f.st.Onboard(f.ctx, late); !errors.Is(err, apikey.ErrConflict) {
				f.Fatalf("seen %q: %v, want ErrConflict", seen, err)
			}
			for _, nk := range []apikey.NewKey{late.Public, late.Secret} {
				if got := f.snapshot(nk.Key.ID, nk.Digest); got != "no record\nlookup <nil>" {
					f.Fatalf("a refused onboarding wrote %s", got)
				}
			}
		}
	}},
	{"a taken digest is ErrDuplicateDigest and writes nothing", func(f *fixture) {
		taken := f.key(apikey.Secret)
		o := f.onboarding("")
		o.Secret.Digest = taken.Digest
		if err := f.st.Onboard(f.ctx, o); !errors.Is(err, apikey.ErrDuplicateDigest) {
			f.Fatalf("%v, want ErrDuplicateDigest", err)
		}
		if got, _ := f.st.OnboardingClaim(f.ctx, f.mid); got != "" {
			f.Fatalf("claim %q after a refused onboarding", got)
		}
		if got := f.snapshot(o.Public.Key.ID, o.Public.Digest); got != "no record\nlookup <nil>" {
			f.Fatalf("a refused onboarding wrote %s", got)
		}
	}},
	{"of concurrent onboardings that read the same claim, exactly one commits", func(f *fixture) {
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			o := f.onboarding("")
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = f.st.Onboard(f.ctx, o) }()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			}
		}
		if won != 1 {
			f.Fatalf("%d of %d onboardings committed: %v", won, n, errs)
		}
	}},
}
