package e2e_test

import (
	"slices"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
)

// TestOAuthFailureTimingDoesNotTellTheCause compares the median time of
// refused exchanges per cause. Every cause costs the same one lookup, so no
// cause may be an order of magnitude faster than another. (A value whose
// checksum is wrong is refused before any read, by design: the checksum is
// public, so that tells a caller nothing.) This is a ratio of medians
// measured in the same run, not a wall-clock assertion.
func TestOAuthFailureTimingDoesNotTellTheCause(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison")
	}
	valid, other, revoked, expired := apitest.NewMerchant(t), apitest.NewMerchant(t), apitest.NewMerchant(t), apitest.NewMerchant(t)
	apitest.DeleteOn(t, apitest.App(), apitest.TokenFor(t, revoked), revoked.SecretKeyID)
	apitest.SetExpired(t, expired.SecretKeyID, expired.AppSecret)
	unknownPublic, _ := apikey.NewValue(apikey.Public, apikey.Sandbox)
	unknownSecret, _ := apikey.NewValue(apikey.Secret, apikey.Sandbox)
	pair := func(k, s string) string { return `{"AppKey":"` + k + `","AppSecret":"` + s + `"}` }
	causes := []struct{ name, body string }{
		{"unknown key", pair(unknownPublic, unknownSecret)},
		{"bad secret", pair(valid.AppKey, other.AppSecret)},
		{"revoked", pair(revoked.AppKey, revoked.AppSecret)},
		{"expired", pair(expired.AppKey, expired.AppSecret)},
	}
	const tries = 20
	samples := make([][]time.Duration, len(causes))
	for range tries { // interleaved, so that drift in load hits every cause alike
		for i, c := range causes {
			start := time.Now()
			r := apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.JSONCT, c.body)
			samples[i] = append(samples[i], time.Since(start))
			if r.Status != 400 || r.Raw != `{"success":false,"errors":["Invalid AppKey or AppSecret."]}`+"\n" {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Raw)
			}
		}
	}
	medians := make([]time.Duration, len(causes))
	for i, s := range samples {
		slices.Sort(s)
		medians[i] = (s[tries/2-1] + s[tries/2]) / 2
		t.Logf("%-12s median %v", causes[i].name, medians[i])
	}
	if lo, hi := slices.Min(medians), slices.Max(medians); hi >= 10*lo {
		t.Fatalf("failure medians differ by %.1fx (%v .. %v)", float64(hi)/float64(lo), lo, hi)
	}
}
