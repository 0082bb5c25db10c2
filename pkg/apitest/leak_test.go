package apitest

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestLeakCheckFindsEveryForm: the check Main runs after the tests finds a
// remembered secret in the logs in each form that gives it away, and
// nothing when the logs are clean.
func TestLeakCheckFindsEveryForm(t *testing.T) {
	secret := "sk_test_" + "0123456789abcdefghijABCDEFGHIJ" + "ZZZZZZ"
	d := sha256.Sum256([]byte(secret))
	for name, logged := range map[string]string{
		"raw":         `{"msg":"x","v":"` + secret + `"}`,
		"second half": secret[len(secret)/2:],
		"hex digest":  hex.EncodeToString(d[:]),
		"base64":      B64(secret),
	} {
		t.Run(name, func(t *testing.T) {
			resetForTest(t)
			Remember("header " + secret)
			if leakedSecret() != "" {
				t.Fatal("clean logs reported as leaking")
			}
			logs.Write([]byte(logged))
			if leakedSecret() == "" {
				t.Fatal("the leak was not found")
			}
		})
	}
}

// resetForTest empties the captured logs and secrets for one test, and
// again after it, so that its planted leak does not fail the check Main
// runs after the package's tests.
func resetForTest(t *testing.T) {
	t.Helper()
	reset := func() {
		logs.mu.Lock()
		logs.buf.Reset()
		logs.mu.Unlock()
		secrets.Lock()
		secrets.seen = map[string]bool{}
		secrets.Unlock()
	}
	reset()
	t.Cleanup(reset)
}
