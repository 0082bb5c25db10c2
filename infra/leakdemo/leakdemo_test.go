package leakdemo

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/flexfactor/credplane/pkg/secretscan"
)

// TestSignedReportVerifiesWithTheServedDocument: what the demo command
// signs is what the receiver accepts, with the key the dev server serves;
// the key survives a restart.
func TestSignedReportVerifiesWithTheServedDocument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.pem")
	k, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateKey(path)
	if err != nil || KeyID(again) != KeyID(k) {
		t.Fatalf("reloaded key %v: %v", KeyID(again), err)
	}
	h, err := Handler(k)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body, id, sig, err := Sign(again, Report{Token: "sk_test_x", Type: "flexfactor_secret_key", URL: "https://github.com/o/r", Source: "commit"})
	if err != nil {
		t.Fatal(err)
	}
	v := &secretscan.Verifier{URL: srv.URL}
	if err := v.Verify(context.Background(), id, sig, body); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if reports, err := secretscan.ParseReport(body); err != nil || len(reports) != 1 || reports[0].Token != "sk_test_x" {
		t.Fatalf("parse: %+v %v", reports, err)
	}
	if err := v.Verify(context.Background(), id, sig, append(body, ' ')); err == nil {
		t.Fatal("a changed body verified")
	}
}
