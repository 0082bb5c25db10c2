package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestTokenLimit: a secret key obtains at most TokenLimit tokens a minute,
// exchanges and refreshes together; the next is refused with the time left
// in the minute, and the next minute starts afresh.
func TestTokenLimit(t *testing.T) {
	f := newFixture(t)
	f.svc.TokenLimit = 3
	f.now = f.now.Add(15*time.Second + 500*time.Millisecond)
	ctx := context.Background()
	first := f.exchange(t)
	f.exchange(t)
	if _, err := f.svc.Refresh(ctx, first.RefreshToken, nil, nil); err != nil {
		t.Fatalf("refresh within the limit: %v", err)
	}
	_, err := f.svc.Exchange(ctx, f.appKey, f.appSecret, nil)
	if !errors.Is(err, ErrRateLimited) || RetryAfter(err) != 44500*time.Millisecond || ReasonOf(err) != ReasonRateLimited {
		t.Fatalf("exchange past the limit: %v, retry after %v, reason %q", err, RetryAfter(err), ReasonOf(err))
	}
	f.now = f.now.Add(44500 * time.Millisecond) // the next minute
	second := f.exchange(t)
	f.exchange(t)
	f.exchange(t)
	if _, err := f.svc.Refresh(ctx, second.RefreshToken, nil, nil); !errors.Is(err, ErrRateLimited) || RetryAfter(err) != time.Minute {
		t.Fatalf("refresh past the limit: %v, retry after %v", err, RetryAfter(err))
	}
	if r := f.record(t, second.RefreshToken); r.RotatedAt != nil {
		t.Fatal("a refused refresh rotated its token")
	}
}

func TestTokenLimitDefault(t *testing.T) {
	f := newFixture(t)
	for range DefaultTokenLimit {
		f.exchange(t)
	}
	if _, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, nil); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("token %d: %v", DefaultTokenLimit+1, err)
	}
}
