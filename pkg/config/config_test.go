package config

import (
	"slices"
	"strings"
	"testing"
)

func lookup(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvDefaults(t *testing.T) {
	c, err := fromLookup(lookup(map[string]string{"TABLE_NAME": "t", "KMS_SIGNING_KEY_ID": "sig", "KMS_VERIFY_KEY_IDS": " old1, ,old2"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Stage != "sandbox" || c.Issuer != "https://api-sandbox.flex-charge.com" || c.Audience != c.Issuer+"/v1" || c.Region != "us-east-1" {
		t.Fatalf("%+v", c)
	}
	if !slices.Equal(c.VerificationKeys(), []string{"sig", "old1", "old2"}) {
		t.Fatalf("VerificationKeys = %q", c.VerificationKeys())
	}
	c, _ = fromLookup(lookup(map[string]string{"STAGE": "production", "TABLE_NAME": "t", "KMS_SIGNING_KEY_ID": "sig"}))
	if c.Issuer != "https://api.flex-charge.com" {
		t.Fatalf("production issuer %q", c.Issuer)
	}
}

func TestFromEnvErrors(t *testing.T) {
	if _, err := fromLookup(lookup(map[string]string{"STAGE": "prod", "TABLE_NAME": "t", "KMS_SIGNING_KEY_ID": "s"})); err == nil || !strings.Contains(err.Error(), "STAGE") {
		t.Fatalf("bad stage: %v", err)
	}
	_, err := fromLookup(lookup(map[string]string{}))
	if err == nil || !strings.Contains(err.Error(), "TABLE_NAME") || !strings.Contains(err.Error(), "KMS_SIGNING_KEY_ID") {
		t.Fatalf("missing: %v", err)
	}
}
