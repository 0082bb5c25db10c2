package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/token"
)

type memSigner struct{ key *ecdsa.PrivateKey }

func (m memSigner) KeyID() string { return "kid" }
func (m memSigner) SignDigest(_ context.Context, d []byte) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, m.key, d)
}

// fakeStore serves credentials from a map and records exchanges.
type fakeStore struct {
	creds    map[apikey.Digest]*Credential
	lookups  int
	recorded []RefreshRecord
	gone     bool // RecordExchange finds a key deleted meanwhile
}

func (f *fakeStore) LookupCredentials(_ context.Context, a, b apikey.Digest) (*Credential, *Credential, error) {
	f.lookups++
	return f.creds[a], f.creds[b], nil
}

func (f *fakeStore) RecordExchange(_ context.Context, r RefreshRecord) error {
	if f.gone {
		return apikey.ErrNotFound
	}
	f.recorded = append(f.recorded, r)
	return nil
}

var now = time.Date(2024, 11, 16, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*Service, *fakeStore, string, string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := apikey.NewValue(apikey.Public, apikey.Sandbox)
	sec, _ := apikey.NewValue(apikey.Secret, apikey.Sandbox)
	st := &fakeStore{creds: map[apikey.Digest]*Credential{
		apikey.DigestOf(pub): {Digest: apikey.DigestOf(pub), KeyID: "key_p", MID: "mid_1", Type: apikey.Public},
		apikey.DigestOf(sec): {Digest: apikey.DigestOf(sec), KeyID: "key_s", MID: "mid_1", Type: apikey.Secret, Scopes: []string{"api-keys:read", "charges:read"}},
	}}
	clock := func() time.Time { return now }
	svc := &Service{Store: st, Stage: apikey.Sandbox, Now: clock,
		Issuer: &token.Issuer{Signer: memSigner{key}, Issuer: "i", Audience: "a", Now: clock}}
	return svc, st, pub, sec
}

func TestExchange(t *testing.T) {
	svc, st, pub, sec := setup(t)
	got, err := svc.Exchange(context.Background(), pub, sec)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "key_p" || got.Scope != "api-keys:read charges:read" || !got.ExpiresAt.Equal(now.Add(600*time.Second)) {
		t.Fatalf("%+v", got)
	}
	if len(st.recorded) != 1 {
		t.Fatal("no refresh token recorded")
	}
	r := st.recorded[0]
	if r.SecretKeyID != "key_s" || r.PublicKeyID != "key_p" || r.MID != "mid_1" || !r.ExpiresAt.Equal(now.Add(RefreshTTL)) || r.FamilyID == "" {
		t.Fatalf("record %+v", r)
	}
	if r.Digest == [32]byte{} || string(r.Digest[:]) == got.RefreshToken {
		t.Fatal("refresh token must be stored as a digest")
	}
}

func TestExchangeRefusals(t *testing.T) {
	other, _ := apikey.NewValue(apikey.Secret, apikey.Sandbox)
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	tests := []struct {
		name     string
		mutate   func(st *fakeStore, pub, sec string) (string, string)
		noLookup bool
	}{
		{"unknown secret", func(_ *fakeStore, p, _ string) (string, string) { return p, other }, false},
		{"swapped", func(_ *fakeStore, p, s string) (string, string) { return s, p }, true},
		{"malformed", func(_ *fakeStore, p, s string) (string, string) { return p, s[:40] }, true},
		{"other merchant", func(st *fakeStore, p, s string) (string, string) {
			st.creds[apikey.DigestOf(p)].MID = "mid_2"
			return p, s
		}, false},
		{"expired secret", func(st *fakeStore, p, s string) (string, string) {
			st.creds[apikey.DigestOf(s)].ExpiresAt = &now
			return p, s
		}, false},
		{"grace over", func(st *fakeStore, p, s string) (string, string) {
			st.creds[apikey.DigestOf(s)].ValidUntil = &past
			return p, s
		}, false},
		{"stored type differs", func(st *fakeStore, p, s string) (string, string) {
			st.creds[apikey.DigestOf(s)].Type = apikey.Tokenization
			return p, s
		}, false},
		{"deleted meanwhile", func(st *fakeStore, p, s string) (string, string) {
			st.gone = true
			return p, s
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, st, pub, sec := setup(t)
			p, s := tt.mutate(st, pub, sec)
			_, err := svc.Exchange(context.Background(), p, s)
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("err = %v", err)
			}
			if tt.noLookup != (st.lookups == 0) {
				t.Fatalf("lookups = %d (checksum and type are checked before any read)", st.lookups)
			}
		})
	}
	svc, st, pub, sec := setup(t)
	st.creds[apikey.DigestOf(sec)].ValidUntil = &future
	if _, err := svc.Exchange(context.Background(), pub, sec); err != nil {
		t.Fatalf("within grace: %v", err)
	}
}
