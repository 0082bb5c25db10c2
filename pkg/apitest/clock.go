package apitest

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// Clock is a settable clock shared by every service of a stack, so that
// tests move time for expiry, grace periods and caches instead of sleeping.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at the current whole second.
func NewClock() *Clock { return &Clock{t: time.Now().UTC().Truncate(time.Second)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// StackAt is the whole handler stack with its clock at c.
func StackAt(c *Clock) http.Handler { return Deps(c.Now).All() }

// ClockedMerchant is a fresh merchant and its access token on a stack whose
// clock the test moves.
func ClockedMerchant(t *testing.T) (*Clock, http.Handler, Merchant, string) {
	t.Helper()
	clk := NewClock()
	h := StackAt(clk)
	m := NewMerchant(t)
	return clk, h, m, TokenOn(t, h, m)
}

// MemoryMerchant is a fresh merchant and its access token on a whole stack
// in memory (see Memory), whose clock the test may move: no emulator.
func MemoryMerchant(t *testing.T) (*Clock, http.Handler, Merchant, string) {
	t.Helper()
	clk := NewClock()
	d := Memory(clk.Now)
	h := d.All()
	m := NewMerchantOn(t, d)
	return clk, h, m, TokenOn(t, h, m)
}
