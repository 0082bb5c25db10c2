// Package parallel runs a call alongside the caller's own work, so that
// two calls that need nothing from each other cost the longer of them
// rather than their sum, and no call outlives the request that made it.
package parallel

import "context"

// Call is a call running on a goroutine of its own.
type Call[T any] struct {
	cancel context.CancelFunc
	done   chan struct{}
	v      T
	err    error
}

// Go starts f with a context of its own, derived from ctx, that Stop
// cancels. One of Wait or Stop must follow, or the context is never
// released.
func Go[T any](ctx context.Context, f func(context.Context) (T, error)) *Call[T] {
	ctx, cancel := context.WithCancel(ctx)
	c := &Call[T]{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.v, c.err = f(ctx)
	}()
	return c
}

// Wait returns f's result once f has returned.
func (c *Call[T]) Wait() (T, error) {
	<-c.done
	c.cancel()
	return c.v, c.err
}

// Stop cancels f, whose result is not wanted, and returns once f has
// returned. It may follow Wait, and be called again.
func (c *Call[T]) Stop() {
	c.cancel()
	<-c.done
}
