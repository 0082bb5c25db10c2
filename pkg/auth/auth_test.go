package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
)

func TestExchange(t *testing.T) {
	f := newFixture(t)
	got, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != f.pubID || got.Scope != "api-keys:read api-keys:write charges:read" || !got.ExpiresAt.Equal(f.now.Add(600*time.Second)) {
		t.Fatalf("%+v", got)
	}
	if len(f.store.refresh) != 1 {
		t.Fatalf("%d refresh tokens recorded", len(f.store.refresh))
	}
	for d, r := range f.store.refresh {
		if r.SecretKeyID != f.secID || r.PublicKeyID != f.pubID || r.MID != f.mid || !r.ExpiresAt.Equal(f.now.Add(RefreshTTL)) || r.FamilyID == "" {
			t.Fatalf("record %+v", r)
		}
		if string(d[:]) == got.RefreshToken {
			t.Fatal("refresh token must be stored as a digest")
		}
	}
}

func TestExchangeRefusals(t *testing.T) {
	other, _ := apikey.NewValue(apikey.Secret, apikey.Sandbox)
	tests := []struct {
		name     string
		mutate   func(f *fixture) (string, string)
		noLookup bool
	}{
		{"unknown secret", func(f *fixture) (string, string) { return f.appKey, other }, false},
		{"swapped", func(f *fixture) (string, string) { return f.appSecret, f.appKey }, true},
		{"malformed", func(f *fixture) (string, string) { return f.appKey, f.appSecret[:40] }, true},
		{"other merchant", func(f *fixture) (string, string) {
			f.store.creds[apikey.DigestOf(f.appKey)].MID = "mid_2"
			return f.appKey, f.appSecret
		}, false},
		{"expired secret", func(f *fixture) (string, string) {
			f.store.creds[apikey.DigestOf(f.appSecret)].ExpiresAt = &f.now
			return f.appKey, f.appSecret
		}, false},
		{"grace over", func(f *fixture) (string, string) {
			past := f.now.Add(-time.Second)
			f.store.creds[apikey.DigestOf(f.appSecret)].ValidUntil = &past
			return f.appKey, f.appSecret
		}, false},
		{"stored type differs", func(f *fixture) (string, string) {
			f.store.creds[apikey.DigestOf(f.appSecret)].Type = apikey.Tokenization
			return f.appKey, f.appSecret
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p, s := tt.mutate(f)
			_, err := f.svc.Exchange(context.Background(), p, s, nil)
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("err = %v", err)
			}
			if tt.noLookup != (f.store.lookups == 0) {
				t.Fatalf("lookups = %d (checksum and type are checked before any read)", f.store.lookups)
			}
			if len(f.store.refresh) != 0 {
				t.Fatal("a refused exchange stored a refresh token")
			}
		})
	}
	f := newFixture(t)
	future := f.now.Add(time.Hour)
	f.store.creds[apikey.DigestOf(f.appSecret)].ValidUntil = &future
	if _, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, nil); err != nil {
		t.Fatalf("within grace: %v", err)
	}
}
