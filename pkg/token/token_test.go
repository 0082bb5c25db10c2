package token_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/token"
	"github.com/flexfactor/credplane/pkg/token/tokentest"
)

func newPair(t testing.TB, now time.Time) (*token.Issuer, *token.Verifier) {
	signer := tokentest.NewSigner(t)
	clock := func() time.Time { return now }
	iss := &token.Issuer{Signer: signer, Issuer: "https://iss", Audience: "https://aud", Now: clock}
	ver := &token.Verifier{Issuer: "https://iss", Audience: "https://aud", Now: clock, Keys: signer.Keys}
	return iss, ver
}

var subject = token.Subject{SecretKeyID: "key_s", PublicKeyID: "key_p", MID: "mid_1", Scopes: "api-keys:read"}

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
	ver = &token.Verifier{Issuer: ver.Issuer, Audience: ver.Audience, Keys: ver.Keys, Now: func() time.Time { return now.Add(601 * time.Second) }}
	if _, err := ver.Verify(context.Background(), tok.Token); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestVerifyKeyFetchIsCachedAndRetried(t *testing.T) {
	iss, ver := newPair(t, time.Now())
	tok, _ := iss.Issue(context.Background(), subject)
	inner, calls, fail := ver.Keys, 0, true
	ver.Keys = func(ctx context.Context) (token.KeySet, error) {
		calls++
		if fail {
			return nil, errors.New("kms down")
		}
		return inner(ctx)
	}
	if _, err := ver.Verify(context.Background(), tok.Token); err == nil || errors.Is(err, token.ErrInvalid) {
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
