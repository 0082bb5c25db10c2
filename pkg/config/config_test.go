package config

import (
	"bytes"
	"strings"
	"testing"
)

func lookup(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestCursorKey(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t1", "KMS_SIGNING_KEY_ID": "k"}
	derived, err := fromLookup(lookup(base))
	if err != nil {
		t.Fatal(err)
	}
	if len(derived.CursorKey()) != 32 {
		t.Fatalf("derived key of %d bytes", len(derived.CursorKey()))
	}
	other := map[string]string{"TABLE_NAME": "t2", "KMS_SIGNING_KEY_ID": "k"}
	c2, _ := fromLookup(lookup(other))
	if bytes.Equal(derived.CursorKey(), c2.CursorKey()) {
		t.Fatal("two tables derive the same cursor key")
	}
	prod := map[string]string{"TABLE_NAME": "t1", "KMS_SIGNING_KEY_ID": "k", "STAGE": "production"}
	c3, _ := fromLookup(lookup(prod))
	if bytes.Equal(derived.CursorKey(), c3.CursorKey()) {
		t.Fatal("two stages derive the same cursor key")
	}

	secret := strings.Repeat("s", 32)
	withSecret := map[string]string{"TABLE_NAME": "t1", "KMS_SIGNING_KEY_ID": "k", "CURSOR_SECRET": secret}
	c4, err := fromLookup(lookup(withSecret))
	if err != nil || string(c4.CursorKey()) != secret {
		t.Fatalf("CURSOR_SECRET not used: %v", err)
	}
	withSecret["CURSOR_SECRET"] = secret[:31]
	if _, err := fromLookup(lookup(withSecret)); err == nil || !strings.Contains(err.Error(), "CURSOR_SECRET") || strings.Contains(err.Error(), secret[:31]) {
		t.Fatalf("short CURSOR_SECRET: err = %v", err)
	}
}
