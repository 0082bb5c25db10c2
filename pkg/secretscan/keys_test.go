package secretscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// GitHub's documented sample (SPEC "Leaked keys"), which verifies with its
// published key.
const (
	sampleBody  = `[{"source":"commit","token":"some_token","type":"some_type","url":"https://example.com/base-repo-url/"}]`
	sampleKeyID = "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c"
	sampleSig   = "MEQCIQDaMKqrGnE27S0kgMrEK0eYBmyG0LeZismAEz/BgZyt7AIfXt9fErtRS4XaeSt/AO1RtBY66YcAdjxji410VQV4xg=="
	sampleKey   = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYAGMWO8XgCamYKMJS6jc/qgvSlAd\nAjPuDPRcXU22YxgBrz+zoN19MzuRyW87qEt9/AmtoNP5GrobzUvQSyJFVw==\n-----END PUBLIC KEY-----\n"
)

// keyServer serves a key document it can change, and counts fetches.
type keyServer struct {
	mu      sync.Mutex
	keys    map[string]string // identifier -> PEM
	fetches atomic.Int64
	*httptest.Server
}

func newKeyServer(t *testing.T, keys map[string]string) *keyServer {
	ks := &keyServer{keys: keys}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		var doc keyDocument
		for id, k := range ks.keys {
			doc.PublicKeys = append(doc.PublicKeys, struct {
				KeyIdentifier string `json:"key_identifier"`
				Key           string `json:"key"`
				IsCurrent     bool   `json:"is_current"`
			}{id, k, true})
		}
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) set(id, pemKey string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys[id] = pemKey
}

// signer is a test P-256 key with its PEM.
type signer struct {
	key *ecdsa.PrivateKey
	pem string
}

func newSigner(t *testing.T) signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return signer{k, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
}

func (s signer) sign(t *testing.T, body []byte) string {
	d := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestGitHubSampleVerifies(t *testing.T) {
	ks := newKeyServer(t, map[string]string{sampleKeyID: sampleKey})
	v := &Verifier{URL: ks.URL}
	if err := v.Verify(context.Background(), sampleKeyID, sampleSig, []byte(sampleBody)); err != nil {
		t.Fatalf("GitHub's sample: %v", err)
	}
	if len(sampleBody) != 104 {
		t.Fatalf("sample body is %d bytes", len(sampleBody))
	}
	for name, tt := range map[string]struct{ id, sig, body string }{
		"tampered body":       {sampleKeyID, sampleSig, sampleBody[:len(sampleBody)-2] + " ]"},
		"no identifier":       {"", sampleSig, sampleBody},
		"no signature":        {sampleKeyID, "", sampleBody},
		"signature not b64":   {sampleKeyID, "%%%", sampleBody},
		"signature truncated": {sampleKeyID, sampleSig[:40], sampleBody},
	} {
		if err := v.Verify(context.Background(), tt.id, tt.sig, []byte(tt.body)); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}

func TestVerifierRefetchesOnAnUnknownKeyAtMostOncePerInterval(t *testing.T) {
	old, next := newSigner(t), newSigner(t)
	ks := newKeyServer(t, map[string]string{"old": old.pem})
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	v := &Verifier{URL: ks.URL, Now: func() time.Time { return now }}
	ctx := context.Background()
	body := []byte(`[]`)
	if err := v.Verify(ctx, "old", old.sign(t, body), body); err != nil || ks.fetches.Load() != 1 {
		t.Fatalf("first: %v, %d fetches", err, ks.fetches.Load())
	}
	// A signature by the wrong key, under a known identifier: no fetch.
	if err := v.Verify(ctx, "old", next.sign(t, body), body); !errors.Is(err, ErrBadSignature) || ks.fetches.Load() != 1 {
		t.Fatalf("wrong key: %v, %d fetches", err, ks.fetches.Load())
	}
	// GitHub rotates; the new identifier is unknown within the minute of the
	// first fetch: refused without a fetch.
	ks.set("next", next.pem)
	now = now.Add(30 * time.Second)
	if err := v.Verify(ctx, "next", next.sign(t, body), body); !errors.Is(err, ErrBadSignature) || ks.fetches.Load() != 1 {
		t.Fatalf("within the minute: %v, %d fetches", err, ks.fetches.Load())
	}
	// A minute on, the unknown identifier triggers one refetch, and verifies.
	now = now.Add(RefetchInterval)
	if err := v.Verify(ctx, "next", next.sign(t, body), body); err != nil || ks.fetches.Load() != 2 {
		t.Fatalf("after the minute: %v, %d fetches", err, ks.fetches.Load())
	}
	// A second unknown identifier within that minute does not fetch again.
	if err := v.Verify(ctx, "forged", next.sign(t, body), body); !errors.Is(err, ErrBadSignature) || ks.fetches.Load() != 2 {
		t.Fatalf("second unknown: %v, %d fetches", err, ks.fetches.Load())
	}
}

func TestVerifierWithoutTheDocumentIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer srv.Close()
	v := &Verifier{URL: srv.URL}
	if err := v.Verify(context.Background(), sampleKeyID, sampleSig, []byte(sampleBody)); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("%v, want ErrKeysUnavailable", err)
	}
}

func TestParseReport(t *testing.T) {
	if got, err := ParseReport([]byte(sampleBody)); err != nil || len(got) != 1 || got[0].Token != "some_token" || got[0].Source != "commit" {
		t.Fatalf("%+v %v", got, err)
	}
	many := []byte("[")
	for i := range MaxTokens + 1 {
		if i > 0 {
			many = append(many, ',')
		}
		many = append(many, `{"token":"t","type":"x","url":"u","source":"s"}`...)
	}
	many = append(many, ']')
	for name, body := range map[string]string{
		"not JSON":          `nope`,
		"an object":         `{"token":"t"}`,
		"null":              `null`,
		"trailing data":     sampleBody + `[]`,
		"unknown member":    `[{"token":"t","type":"x","url":"u","source":"s","extra":1}]`,
		"token not string":  `[{"token":1,"type":"x","url":"u","source":"s"}]`,
		"empty token":       `[{"token":"","type":"x","url":"u","source":"s"}]`,
		"missing member":    `[{"token":"t","type":"x","url":"u"}]`,
		"over 1,000 tokens": string(many),
	} {
		if _, err := ParseReport([]byte(body)); !errors.Is(err, ErrMalformedReport) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
