package config

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

func lookup(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvDefaults(t *testing.T) {
	c, err := fromLookup(lookup(map[string]string{"TABLE_NAME": "t", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "sig", "KMS_VERIFY_KEY_IDS": " old1, ,old2"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Stage != "sandbox" || c.Issuer != "https://api-sandbox.flex-charge.com" || c.Audience != c.Issuer+"/v1" || c.Region != "us-east-1" {
		t.Fatalf("%+v", c)
	}
	if c.TokenRateLimit != 60 {
		t.Fatalf("TokenRateLimit = %d, want 60", c.TokenRateLimit)
	}
	if c.Budget() != 3*time.Second {
		t.Fatalf("budget %v", c.Budget())
	}
	if !slices.Equal(c.VerificationKeys(), []string{"sig", "old1", "old2"}) {
		t.Fatalf("VerificationKeys = %q", c.VerificationKeys())
	}
	c, _ = fromLookup(lookup(map[string]string{"STAGE": "production", "TABLE_NAME": "t", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "sig"}))
	if c.Issuer != "https://api.flex-charge.com" {
		t.Fatalf("production issuer %q", c.Issuer)
	}
}

func TestFromEnvErrors(t *testing.T) {
	if _, err := fromLookup(lookup(map[string]string{"STAGE": "prod", "TABLE_NAME": "t", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "s"})); err == nil || !strings.Contains(err.Error(), "STAGE") {
		t.Fatalf("bad stage: %v", err)
	}
	_, err := fromLookup(lookup(map[string]string{}))
	if err == nil || !strings.Contains(err.Error(), "TABLE_NAME") || !strings.Contains(err.Error(), "KMS_SIGNING_KEY_ID") {
		t.Fatalf("missing: %v", err)
	}
}

func TestCursorKey(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t1", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "k"}
	derived, err := fromLookup(lookup(base))
	if err != nil {
		t.Fatal(err)
	}
	if len(derived.CursorKey()) != 32 {
		t.Fatalf("derived key of %d bytes", len(derived.CursorKey()))
	}
	other := map[string]string{"TABLE_NAME": "t2", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "k"}
	c2, _ := fromLookup(lookup(other))
	if bytes.Equal(derived.CursorKey(), c2.CursorKey()) {
		t.Fatal("two tables derive the same cursor key")
	}
	prod := map[string]string{"TABLE_NAME": "t1", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "k", "STAGE": "production"}
	c3, _ := fromLookup(lookup(prod))
	if bytes.Equal(derived.CursorKey(), c3.CursorKey()) {
		t.Fatal("two stages derive the same cursor key")
	}

	secret := strings.Repeat("s", 32)
	withSecret := map[string]string{"TABLE_NAME": "t1", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "k", "CURSOR_SECRET": secret}
	c4, err := fromLookup(lookup(withSecret))
	if err != nil || string(c4.CursorKey()) != secret {
		t.Fatalf("CURSOR_SECRET not used: %v", err)
	}
	withSecret["CURSOR_SECRET"] = secret[:31]
	if _, err := fromLookup(lookup(withSecret)); err == nil || !strings.Contains(err.Error(), "CURSOR_SECRET") || strings.Contains(err.Error(), secret[:31]) {
		t.Fatalf("short CURSOR_SECRET: err = %v", err)
	}
}

// TestKeyARNsBecomeKeyIDs: the template names keys given by a parameter by
// ARN; the configuration keeps their key ids, which are the kids of their
// tokens, and leaves ids and other references as they are.
func TestKeyARNsBecomeKeyIDs(t *testing.T) {
	const (
		newKey = "arn:aws:kms:us-east-1:111122223333:key/0f4a2c9e-1b7d-4e3a-9c55-2d8e6f1a7b30"
		oldKey = "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
	)
	c, err := fromLookup(lookup(map[string]string{"TABLE_NAME": "t", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": newKey,
		"KMS_VERIFY_KEY_IDS": oldKey + ",stack-key-id,alias/credplane-sandbox-signing"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0f4a2c9e-1b7d-4e3a-9c55-2d8e6f1a7b30", "mrk-1234abcd12ab34cd56ef1234567890ab", "stack-key-id", "alias/credplane-sandbox-signing"}
	if !slices.Equal(c.VerificationKeys(), want) {
		t.Fatalf("VerificationKeys = %q, want %q", c.VerificationKeys(), want)
	}
}

func TestTokenRateLimit(t *testing.T) {
	base := func(v string) map[string]string {
		return map[string]string{"TABLE_NAME": "t", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "k", "TOKEN_RATE_LIMIT": v}
	}
	c, err := fromLookup(lookup(base("250")))
	if err != nil || c.TokenRateLimit != 250 {
		t.Fatalf("TOKEN_RATE_LIMIT=250: %d, %v", c.TokenRateLimit, err)
	}
	for _, bad := range []string{"0", "-1", "1.5", "60/min", " 60"} {
		if _, err := fromLookup(lookup(base(bad))); err == nil || !strings.Contains(err.Error(), "TOKEN_RATE_LIMIT") {
			t.Errorf("TOKEN_RATE_LIMIT=%q: %v", bad, err)
		}
	}
}

func TestRequestBudget(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "k"}
	for in, want := range map[string]time.Duration{"300ms": 300 * time.Millisecond, "2s": 2 * time.Second, "1m": time.Minute} {
		base["REQUEST_BUDGET"] = in
		c, err := fromLookup(lookup(base))
		if err != nil || c.Budget() != want {
			t.Errorf("REQUEST_BUDGET=%s: %v, %v", in, c.Budget(), err)
		}
	}
	for _, bad := range []string{"3", "0s", "-1s", "soon"} {
		base["REQUEST_BUDGET"] = bad
		if _, err := fromLookup(lookup(base)); err == nil || !strings.Contains(err.Error(), "REQUEST_BUDGET") {
			t.Errorf("REQUEST_BUDGET=%s: %v", bad, err)
		}
	}
	if (Config{}).Budget() != DefaultRequestBudget {
		t.Fatal("the zero budget is not the default")
	}
}

// TestCallLimitsFitTheBudget: an SDK call that fails every attempt, each
// taking its whole timeout, and backs off the longest between them, still
// ends inside the budget, for budgets from tests' to the functions' own.
func TestCallLimitsFitTheBudget(t *testing.T) {
	for _, budget := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, DefaultRequestBudget, 9 * time.Second} {
		attempt, backoff := CallLimits(budget)
		worst := MaxAttempts*attempt + (MaxAttempts-1)*backoff
		if attempt <= 0 || backoff <= 0 || worst >= budget {
			t.Errorf("budget %v: %d attempts of %v with backoffs of %v take up to %v", budget, MaxAttempts, attempt, backoff, worst)
		}
	}
}
