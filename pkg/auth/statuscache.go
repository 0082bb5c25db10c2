package auth

import (
	"context"
	"slices"
	"sync"
	"time"
)

// StatusTTL is how long a container trusts a key record it has read. With
// access tokens checked against it, a deleted or rolled key stops working
// within this time (plus the read), well inside the 60 s the contract allows.
const StatusTTL = 30 * time.Second

// maxStatusEntries bounds the cache; a full cache first drops stale entries,
// then everything.
const maxStatusEntries = 10000

// StatusCache answers whether the keys behind an access token still stand,
// reading each key's record at most once per TTL per container, so that a
// protected request normally does no I/O for it.
type StatusCache struct {
	Source KeyStates
	// TTL is how long a read is trusted; zero means StatusTTL. Values above
	// StatusTTL are lowered to it.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]statusEntry
}

type statusEntry struct {
	state   KeyState
	found   bool
	fetched time.Time
}

func (c *StatusCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *StatusCache) ttl() time.Duration {
	if c.TTL <= 0 || c.TTL > StatusTTL {
		return StatusTTL
	}
	return c.TTL
}

// Active reports whether a token minted for merchant mid from the keys
// (each with the generation of the value that minted it) may be used now
// (KeyState.Admits for every key). The keys not cached are read in one
// call; a failed read is returned as an error and not cached.
func (c *StatusCache) Active(ctx context.Context, mid string, keys ...KeyRef) (bool, error) {
	now := c.now()
	entries := make([]statusEntry, len(keys))
	var missing []string
	for i, k := range keys {
		e, ok := c.get(k.ID, now)
		if !ok {
			missing = append(missing, k.ID)
		}
		entries[i] = e
	}
	if len(missing) > 0 {
		states, err := c.Source.KeyStates(ctx, missing...)
		if err != nil {
			return false, err
		}
		for i, k := range keys {
			if slices.Contains(missing, k.ID) {
				entries[i].state, entries[i].found = states[k.ID]
				entries[i].fetched = now
				c.put(k.ID, entries[i])
			}
		}
	}
	ok := true
	for i, e := range entries {
		ok = e.found && e.state.Admits(mid, keys[i].Generation, now) && ok
	}
	return ok, nil
}

func (c *StatusCache) get(keyID string, now time.Time) (statusEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[keyID]
	if !ok || now.Sub(e.fetched) >= c.ttl() || now.Before(e.fetched) {
		return statusEntry{}, false
	}
	return e, true
}

func (c *StatusCache) put(keyID string, e statusEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]statusEntry)
	}
	if len(c.entries) >= maxStatusEntries {
		for id, old := range c.entries {
			if e.fetched.Sub(old.fetched) >= c.ttl() {
				delete(c.entries, id)
			}
		}
		if len(c.entries) >= maxStatusEntries {
			clear(c.entries)
		}
	}
	c.entries[keyID] = e
}
