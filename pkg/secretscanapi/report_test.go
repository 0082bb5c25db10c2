package secretscanapi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flexfactor/credplane/infra/leakdemo"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/flexfactor/credplane/pkg/secretscan"
	"github.com/flexfactor/credplane/pkg/secretscanapi"
)

// fakeLeaks labels tokens starting with "sk_" as real and records calls.
type fakeLeaks struct {
	mu    sync.Mutex
	calls []secretscan.Reported
}

func (f *fakeLeaks) ReportLeak(_ context.Context, r secretscan.Reported) (secretscan.Label, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r)
	if strings.HasPrefix(r.Token, "sk_") {
		return secretscan.TruePositive, nil
	}
	return secretscan.FalsePositive, nil
}

// stack is the receiver behind a key document holding one key: the
// development key of infra/leakdemo, as make dev serves it.
type stack struct {
	h       http.Handler
	key     *ecdsa.PrivateKey
	keyID   string
	leaks   *fakeLeaks
	metrics *bytes.Buffer // its metric lines
}

func newStack(t *testing.T) stack {
	t.Helper()
	k, err := leakdemo.LoadOrCreateKey(filepath.Join(t.TempDir(), "github.pem"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := leakdemo.Handler(k)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(doc)
	t.Cleanup(srv.Close)
	leaks := &fakeLeaks{}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var lines bytes.Buffer
	m := metrics.New(&lines, "sandbox", "SecretScanningFunction", nil)
	h := httpapi.Handler(log, m, &secretscanapi.Handler{Verifier: &secretscan.Verifier{URL: srv.URL}, Leaks: leaks, Log: log})
	return stack{h, k, leakdemo.KeyID(k), leaks, &lines}
}

func (s stack) post(t *testing.T, keyID, sig, body string) *httptest.ResponseRecorder {
	t.Helper()
	header := map[string]string{"Content-Type": "application/json"}
	if keyID != "" {
		header[secretscanapi.HeaderKeyID] = keyID
	}
	if sig != "" {
		header[secretscanapi.HeaderSignature] = sig
	}
	rec := apitest.Serve(s.h, "POST", "/v1/secret-scanning/github", header, body)
	apitest.Check(t, rec)
	return rec
}

func (s stack) sign(t *testing.T, body string) string {
	sig, err := leakdemo.SignBody(s.key, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func hash(s string) string { d := sha256.Sum256([]byte(s)); return hex.EncodeToString(d[:]) }

func TestReport200LabelsEveryTokenInOrderWithoutEchoingIt(t *testing.T) {
	s := newStack(t)
	body := `[{"token":"sk_test_leaked","type":"flexfactor_secret","url":"https://github.com/o/r/blob/x","source":"commit"},` +
		`{"token":"not-a-key","type":"flexfactor_secret","url":"https://github.com/o/r","source":"issue"}]`
	rec := s.post(t, s.keyID, s.sign(t, body), body)
	want := `[{"token_hash":"` + hash("sk_test_leaked") + `","token_type":"flexfactor_secret","label":"true_positive"},` +
		`{"token_hash":"` + hash("not-a-key") + `","token_type":"flexfactor_secret","label":"false_positive"}]` + "\n"
	if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("X-Request-Id") == "" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "sk_test_leaked") {
		t.Fatal("the answer echoes a token")
	}
	if len(s.leaks.calls) != 2 || s.leaks.calls[0].Source != "commit" || s.leaks.calls[1].URL != "https://github.com/o/r" {
		t.Fatalf("calls %+v", s.leaks.calls)
	}
}

func TestReportRefusedChangesNothing(t *testing.T) {
	s := newStack(t)
	body := `[{"token":"sk_test_leaked","type":"t","url":"u","source":"commit"}]`
	sig := s.sign(t, body)
	other := newStack(t)
	big := "[" + strings.Repeat(" ", secretscan.MaxReportBytes) + "]"
	for _, tt := range []struct {
		name, keyID, sig, body string
		status                 int
		want                   string
	}{
		{"no headers", "", "", body, 401, `{"errors":["Invalid signature."]}`},
		{"no signature", s.keyID, "", body, 401, `{"errors":["Invalid signature."]}`},
		{"unknown key", "other-key", sig, body, 401, `{"errors":["Invalid signature."]}`},
		{"tampered body", s.keyID, sig, strings.Replace(body, "commit", "commiT", 1), 401, `{"errors":["Invalid signature."]}`},
		{"signed by another key", s.keyID, other.sign(t, body), body, 401, `{"errors":["Invalid signature."]}`},
		{"not an array", s.keyID, s.sign(t, `{"token":"x"}`), `{"token":"x"}`, 400, `{"errors":["` + secretscanapi.MsgMalformedReport + `"]}`},
		{"duplicate member", s.keyID, s.sign(t, `[{"token":"a","token":"b","type":"t","url":"u","source":"s"}]`), `[{"token":"a","token":"b","type":"t","url":"u","source":"s"}]`, 400, `{"errors":["` + secretscanapi.MsgMalformedReport + `"]}`},
		{"over 1 MiB", s.keyID, sig, big, 413, `{"errors":["Request body too large."]}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.post(t, tt.keyID, tt.sig, tt.body)
			if rec.Code != tt.status || rec.Body.String() != tt.want+"\n" {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	if len(s.leaks.calls) != 0 {
		t.Fatalf("a refused report reached the key domain: %+v", s.leaks.calls)
	}
}

func TestReport405(t *testing.T) {
	s := newStack(t)
	rec := apitest.Serve(s.h, "GET", "/v1/secret-scanning/github", nil, "")
	apitest.Check(t, rec)
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
}
