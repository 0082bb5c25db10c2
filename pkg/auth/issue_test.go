package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/token/tokentest"
)

// stubSigner signs with a real key, or fails with fail; wait, when set,
// runs first and may fail the signature itself. It counts its calls.
type stubSigner struct {
	*tokentest.Signer
	fail  error
	wait  func(ctx context.Context) error
	calls atomic.Int32
}

func (s *stubSigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	s.calls.Add(1)
	if s.wait != nil {
		if err := s.wait(ctx); err != nil {
			return nil, err
		}
	}
	if s.fail != nil {
		return nil, s.fail
	}
	return s.Signer.SignDigest(ctx, digest)
}

// signedBy makes the fixture sign with a stubSigner.
func (f *fixture) signedBy(t *testing.T) *stubSigner {
	s := &stubSigner{Signer: tokentest.NewSigner(t)}
	f.svc.Issuer.Signer = s
	return s
}

var errKMS = errors.New("kms: key disabled")

// liveness bounds a wait that only a defect makes long.
const liveness = 10 * time.Second

// TestSignAndWriteOverlap: the write starts while the signature is still
// being made (a signer that waits for the write would never finish if
// they ran one after the other).
func TestSignAndWriteOverlap(t *testing.T) {
	for _, name := range []string{"exchange", "refresh"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			first := f.exchange(t)
			written := make(chan struct{})
			f.store.onWrite = func() { close(written) }
			f.signedBy(t).wait = func(context.Context) error {
				select {
				case <-written:
					return nil
				case <-time.After(liveness):
					return errors.New("the write did not start while signing")
				}
			}
			var err error
			if name == "exchange" {
				_, err = f.svc.Exchange(context.Background(), f.appKey, f.appSecret, nil)
			} else {
				_, err = f.svc.Refresh(context.Background(), first.RefreshToken, nil, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSigningFailsAfterTheWrite: the answer is the signing's failure, as
// when the token was signed before anything was written, and the write is
// withdrawn: the key's token of the minute is given back, and a refresh
// token presented is not used up.
func TestSigningFailsAfterTheWrite(t *testing.T) {
	f := newFixture(t)
	f.svc.TokenLimit = 2
	first := f.exchange(t)
	signer := f.signedBy(t)
	signer.fail = errKMS
	if _, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, nil); !errors.Is(err, errKMS) || errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("exchange: %v", err)
	}
	if _, err := f.svc.Refresh(context.Background(), first.RefreshToken, nil, nil); !errors.Is(err, errKMS) {
		t.Fatalf("refresh: %v", err)
	}
	if f.store.withdrawn != 2 {
		t.Fatalf("%d issues withdrawn, want 2", f.store.withdrawn)
	}
	for d, r := range f.store.refresh {
		if live := r.RevokedAt == nil && r.RotatedAt == nil; live != (d == f.record(t, first.RefreshToken).Digest) {
			t.Fatalf("after the failures, a token written for them is usable, or the first one is not: %+v", r)
		}
	}
	signer.fail = nil
	if _, err := f.svc.Refresh(context.Background(), first.RefreshToken, nil, nil); err != nil {
		t.Fatalf("the refresh token presented when signing failed, presented again: %v", err)
	}
	if _, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, nil); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("the failed tokens counted against the limit of 2, or more were written: %v", err)
	}
}

// TestWriteFailsWhileSigning: the write's answer stands, whatever the
// signing does, the signing is canceled, and nothing is written.
func TestWriteFailsWhileSigning(t *testing.T) {
	for _, tt := range []struct {
		name     string
		writeErr error
		signErr  error
		want     error
	}{
		{"store unavailable", apikey.ErrUnavailable, nil, apikey.ErrUnavailable},
		{"key gone meanwhile", apikey.ErrNotFound, nil, ErrInvalidCredentials},
		{"key gone meanwhile, signing failed too", apikey.ErrNotFound, errKMS, ErrInvalidCredentials},
		{"over the limit", ErrRateLimited, nil, ErrRateLimited},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.store.writeErr = tt.writeErr
			canceled := make(chan bool, 1)
			signer := f.signedBy(t)
			signer.fail = tt.signErr
			signer.wait = func(ctx context.Context) error {
				select {
				case <-ctx.Done():
					canceled <- true
					return ctx.Err()
				case <-time.After(liveness):
					canceled <- false
					return nil
				}
			}
			_, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, nil)
			if !errors.Is(err, tt.want) || (tt.signErr != nil && errors.Is(err, tt.signErr)) {
				t.Fatalf("exchange: %v, want %v", err, tt.want)
			}
			if !<-canceled {
				t.Fatal("the signing was not canceled")
			}
			if len(f.store.refresh) != 0 || f.store.withdrawn != 0 {
				t.Fatalf("%d tokens stored, %d withdrawn", len(f.store.refresh), f.store.withdrawn)
			}
		})
	}
}

// TestAKeyOverItsLimitSpendsNoSignature: once a container has seen a key
// refused for its rate, the key's requests write first until the minute
// ends, and the refused ones sign nothing.
func TestAKeyOverItsLimitSpendsNoSignature(t *testing.T) {
	f := newFixture(t)
	f.svc.TokenLimit = 2
	signer := f.signedBy(t)
	f.exchange(t)
	f.exchange(t)
	for range 3 {
		if _, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, nil); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("past the limit: %v", err)
		}
	}
	// Two tokens, and one signature the first refusal made while its
	// write was under way.
	if n := signer.calls.Load(); n != 3 {
		t.Fatalf("%d signatures, want 3", n)
	}
	f.now = f.now.Add(time.Minute)
	f.exchange(t)
	if n := signer.calls.Load(); n != 4 {
		t.Fatalf("%d signatures, want 4", n)
	}
}
