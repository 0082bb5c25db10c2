package token_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/token"
	"github.com/flexfactor/credplane/pkg/token/tokentest"
)

// liveness bounds a wait that only a defect makes long.
const liveness = 10 * time.Second

// slowKeys is a key source that counts its fetches, announces each on
// started, and answers once release is closed (the first fetch fails with
// failFirst when set).
type slowKeys struct {
	signer    *tokentest.Signer
	fetches   atomic.Int32
	started   chan struct{}
	release   chan struct{}
	failFirst error
}

func newSlowKeys(t *testing.T) *slowKeys {
	return &slowKeys{signer: tokentest.NewSigner(t), started: make(chan struct{}, 10), release: make(chan struct{})}
}

func (s *slowKeys) fetch(ctx context.Context) (token.KeySet, error) {
	n := s.fetches.Add(1)
	s.started <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if n == 1 && s.failFirst != nil {
		return nil, s.failFirst
	}
	return s.signer.Keys(ctx)
}

func (s *slowKeys) verifier() (*token.Verifier, string) {
	iss := &token.Issuer{Signer: s.signer, Issuer: "https://iss", Audience: "https://aud"}
	tok, err := iss.Issue(context.Background(), subject)
	if err != nil {
		panic(err)
	}
	return &token.Verifier{Issuer: "https://iss", Audience: "https://aud", Keys: s.fetch}, tok.Token
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(liveness):
		t.Fatalf("no %s", what)
	}
}

// TestPrefetchFetchesBeforeAnyRequest: the keys are fetched without a
// request, and the first request waits for that fetch instead of making
// its own.
func TestPrefetchFetchesBeforeAnyRequest(t *testing.T) {
	keys := newSlowKeys(t)
	v, tok := keys.verifier()
	v.Prefetch(liveness)
	waitFor(t, keys.started, "fetch started by Prefetch")
	verified := make(chan error, 1)
	go func() { _, err := v.Verify(context.Background(), tok); verified <- err }()
	close(keys.release)
	if err := <-verified; err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil || keys.fetches.Load() != 1 {
		t.Fatalf("%v; %d fetches, want 1", err, keys.fetches.Load())
	}
}

// TestAFailedPrefetchIsMadeAgainByARequest: a prefetch that fails leaves
// the fetch to the first request.
func TestAFailedPrefetchIsMadeAgainByARequest(t *testing.T) {
	keys := newSlowKeys(t)
	keys.failFirst = errors.New("kms: unavailable")
	close(keys.release)
	v, tok := keys.verifier()
	v.Prefetch(liveness)
	waitFor(t, keys.started, "fetch started by Prefetch")
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if n := keys.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// TestARequestWaitsForAFetchOnlyAsLongAsItsContext: a request whose
// context ends while another fetch is under way gives up with its
// context's error.
func TestARequestWaitsForAFetchOnlyAsLongAsItsContext(t *testing.T) {
	keys := newSlowKeys(t)
	defer close(keys.release)
	v, tok := keys.verifier()
	v.Prefetch(liveness)
	waitFor(t, keys.started, "fetch started by Prefetch")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Verify(ctx, tok); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}
