package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

// memSigner is a fake Signer with an in-memory P-256 key.
type memSigner struct{ key *ecdsa.PrivateKey }

func (m memSigner) KeyID() string { return "kid-1" }
func (m memSigner) SignDigest(_ context.Context, d []byte) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, m.key, d)
}

func newPair(t testing.TB, now time.Time) (*Issuer, *Verifier) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	iss := &Issuer{Signer: memSigner{key}, Issuer: "https://iss", Audience: "https://aud", Now: clock}
	ver := &Verifier{Issuer: "https://iss", Audience: "https://aud", Now: clock, Keys: func(context.Context) (KeySet, error) {
		return KeySet{"kid-1": &key.PublicKey}, nil
	}}
	return iss, ver
}

var subject = Subject{SecretKeyID: "key_s", PublicKeyID: "key_p", MID: "mid_1", Scopes: "api-keys:read"}

func TestIssueVerify(t *testing.T) {
	now := time.Date(2024, 11, 16, 12, 0, 0, 0, time.UTC)
	iss, ver := newPair(t, now)
	tok, err := iss.Issue(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ExpiresAt.Equal(now.Add(600 * time.Second)) {
		t.Fatalf("ExpiresAt %v", tok.ExpiresAt)
	}
	c, err := ver.Verify(context.Background(), tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "key_s" || c.ClientID != "key_p" || c.MID != "mid_1" || c.Scope != "api-keys:read" || c.ID != tok.ID {
		t.Fatalf("claims %+v", c)
	}
	ver.Now = func() time.Time { return now.Add(601 * time.Second) }
	ver.keys = nil // rebuild the parser with the new clock
	if _, err := ver.Verify(context.Background(), tok.Token); !errors.Is(err, ErrInvalid) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestVerifyKeyFetchIsCachedAndRetried(t *testing.T) {
	iss, ver := newPair(t, time.Now())
	tok, _ := iss.Issue(context.Background(), subject)
	inner, calls, fail := ver.Keys, 0, true
	ver.Keys = func(ctx context.Context) (KeySet, error) {
		calls++
		if fail {
			return nil, errors.New("kms down")
		}
		return inner(ctx)
	}
	if _, err := ver.Verify(context.Background(), tok.Token); err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("a key fetch failure must surface as itself, got %v", err)
	}
	fail = false
	for range 3 {
		if _, err := ver.Verify(context.Background(), tok.Token); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Fatalf("GetPublicKey called %d times, want 2 (one failure, then once)", calls)
	}
}

func TestDERToJOSE(t *testing.T) {
	if _, err := derToJOSE([]byte{0x30, 0x00}); err == nil {
		t.Fatal("empty sequence accepted")
	}
	if _, err := derToJOSE([]byte("garbage")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func BenchmarkVerify(b *testing.B) {
	iss, ver := newPair(b, time.Now())
	tok, err := iss.Issue(context.Background(), subject)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ver.Verify(ctx, tok.Token); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ver.Verify(ctx, tok.Token); err != nil {
			b.Fatal(err)
		}
	}
}
