package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// stands is the state of a key of merchant "m" never rolled nor deleted.
var stands = KeyState{MID: "m", Generation: 1}

// flakySource counts reads and can fail.
type flakySource struct {
	states map[string]KeyState
	reads  int
	err    error
}

func (f *flakySource) KeyStates(_ context.Context, ids ...string) (map[string]KeyState, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]KeyState{}
	for _, id := range ids {
		if st, ok := f.states[id]; ok {
			out[id] = st
		}
	}
	return out, nil
}

func TestStatusCacheReadsOncePerTTL(t *testing.T) {
	now := time.Date(2024, 11, 16, 12, 0, 0, 0, time.UTC)
	src := &flakySource{states: map[string]KeyState{"key_a": stands}}
	c := &StatusCache{Source: src, TTL: 10 * time.Second, Now: func() time.Time { return now }}
	ctx := context.Background()
	for range 5 {
		if ok, err := c.Active(ctx, "m", KeyRef{"key_a", 1}); !ok || err != nil {
			t.Fatalf("Active = %v, %v", ok, err)
		}
	}
	if src.reads != 1 {
		t.Fatalf("%d reads within the TTL, want 1", src.reads)
	}
	// Deleted meanwhile: still cached until the TTL is over, then refused.
	src.states["key_a"] = KeyState{MID: "m", Generation: 1, Revoked: true}
	now = now.Add(9 * time.Second)
	if ok, _ := c.Active(ctx, "m", KeyRef{"key_a", 1}); !ok {
		t.Fatal("the cached state should still be used")
	}
	now = now.Add(time.Second)
	if ok, _ := c.Active(ctx, "m", KeyRef{"key_a", 1}); ok {
		t.Fatal("a revoked key admitted after the TTL")
	}
	if src.reads != 2 {
		t.Fatalf("%d reads, want 2", src.reads)
	}
}

func TestStatusCacheUnknownKeyIsRefusedAndCached(t *testing.T) {
	src := &flakySource{states: map[string]KeyState{}}
	c := &StatusCache{Source: src}
	for range 3 {
		if ok, err := c.Active(context.Background(), "m", KeyRef{"key_gone", 1}); ok || err != nil {
			t.Fatalf("Active = %v, %v", ok, err)
		}
	}
	if src.reads != 1 {
		t.Fatalf("%d reads, want 1", src.reads)
	}
}

func TestStatusCacheDoesNotCacheErrors(t *testing.T) {
	src := &flakySource{states: map[string]KeyState{"key_a": stands}, err: errors.New("throttled")}
	c := &StatusCache{Source: src}
	if _, err := c.Active(context.Background(), "m", KeyRef{"key_a", 1}); err == nil {
		t.Fatal("a failed read must surface")
	}
	src.err = nil
	if ok, err := c.Active(context.Background(), "m", KeyRef{"key_a", 1}); !ok || err != nil {
		t.Fatalf("after recovery: %v, %v", ok, err)
	}
	if src.reads != 2 {
		t.Fatalf("%d reads, want 2", src.reads)
	}
}

func TestStatusCacheTTLIsCapped(t *testing.T) {
	now := time.Now()
	src := &flakySource{states: map[string]KeyState{"key_a": stands}}
	c := &StatusCache{Source: src, TTL: time.Hour, Now: func() time.Time { return now }}
	c.Active(context.Background(), "m", KeyRef{"key_a", 1})
	now = now.Add(StatusTTL)
	c.Active(context.Background(), "m", KeyRef{"key_a", 1})
	if src.reads != 2 {
		t.Fatalf("a TTL above %v was honoured (%d reads)", StatusTTL, src.reads)
	}
}

func TestStatusCacheAppliesTheRollRule(t *testing.T) {
	now := time.Now().UTC()
	rolled, graceEnd := now.Add(-time.Minute), now.Add(-time.Second)
	src := &flakySource{states: map[string]KeyState{"key_a": {MID: "m", Generation: 2, RolledAt: &rolled, PreviousValidUntil: &graceEnd}}}
	c := &StatusCache{Source: src}
	if ok, _ := c.Active(context.Background(), "m", KeyRef{"key_a", 1}); ok {
		t.Fatal("a token of the old value survived its grace period")
	}
	if ok, _ := c.Active(context.Background(), "m", KeyRef{"key_a", 2}); !ok {
		t.Fatal("a token of the new value was refused")
	}
	if ok, _ := c.Active(context.Background(), "other", KeyRef{"key_a", 2}); ok {
		t.Fatal("a token naming another merchant than its key's was admitted")
	}
	if src.reads != 1 {
		t.Fatalf("the state is per key, not per token: %d reads", src.reads)
	}
}

func BenchmarkStatusCacheHit(b *testing.B) {
	src := &flakySource{states: map[string]KeyState{"key_a": stands}}
	c := &StatusCache{Source: src}
	ctx := context.Background()
	c.Active(ctx, "m", KeyRef{"key_a", 1})
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := c.Active(ctx, "m", KeyRef{"key_a", 1}); !ok {
			b.Fatal("refused")
		}
	}
}

// idsSource records the ids of each read.
type idsSource struct {
	flakySource
	asked [][]string
}

func (s *idsSource) KeyStates(ctx context.Context, ids ...string) (map[string]KeyState, error) {
	s.asked = append(s.asked, ids)
	return s.flakySource.KeyStates(ctx, ids...)
}

func TestStatusCacheReadsMissingKeysTogether(t *testing.T) {
	now := time.Now()
	src := &idsSource{flakySource: flakySource{states: map[string]KeyState{"key_s": stands, "key_p": stands, "key_x": {MID: "m", Generation: 1, Revoked: true}}}}
	c := &StatusCache{Source: src, Now: func() time.Time { return now }}
	ctx := context.Background()
	if ok, _ := c.Active(ctx, "m", KeyRef{"key_s", 1}, KeyRef{"key_p", 1}); !ok {
		t.Fatal("both keys stand")
	}
	if ok, _ := c.Active(ctx, "m", KeyRef{"key_s", 1}, KeyRef{"key_x", 1}); ok {
		t.Fatal("one revoked key must refuse the token")
	}
	if len(src.asked) != 2 || len(src.asked[0]) != 2 || len(src.asked[1]) != 1 || src.asked[1][0] != "key_x" {
		t.Fatalf("reads %v: want [key_s key_p] then only [key_x]", src.asked)
	}
}
