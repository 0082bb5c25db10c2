package parallel

import (
	"context"
	"errors"
	"testing"
	"time"
)

// liveness bounds a wait that only a defect makes long.
const liveness = 10 * time.Second

func TestWaitReturnsTheResult(t *testing.T) {
	c := Go(context.Background(), func(context.Context) (int, error) { return 7, errors.New("seven") })
	if v, err := c.Wait(); v != 7 || err == nil || err.Error() != "seven" {
		t.Fatalf("%d %v", v, err)
	}
	c.Stop() // after Wait: nothing to stop
}

// TestStopCancelsAndWaits: Stop cancels the call's context and returns
// only once the call has.
func TestStopCancelsAndWaits(t *testing.T) {
	returned := false
	c := Go(context.Background(), func(ctx context.Context) (struct{}, error) {
		select {
		case <-ctx.Done():
		case <-time.After(liveness):
			t.Error("not canceled")
		}
		returned = true
		return struct{}{}, ctx.Err()
	})
	c.Stop()
	if !returned {
		t.Fatal("Stop returned before the call")
	}
	c.Stop()
}

// TestTheCallerCancels: the call's context ends with the caller's.
func TestTheCallerCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := Go(ctx, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	cancel()
	if _, err := c.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}
