package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

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
	src := &flakySource{states: map[string]KeyState{"key_a": {}}}
	c := &StatusCache{Source: src, TTL: 10 * time.Second, Now: func() time.Time { return now }}
	ctx := context.Background()
	for range 5 {
		if ok, err := c.Active(ctx, now, "key_a"); !ok || err != nil {
			t.Fatalf("Active = %v, %v", ok, err)
		}
	}
	if src.reads != 1 {
		t.Fatalf("%d reads within the TTL, want 1", src.reads)
	}
	// Deleted meanwhile: still cached until the TTL is over, then refused.
	src.states["key_a"] = KeyState{Revoked: true}
	now = now.Add(9 * time.Second)
	if ok, _ := c.Active(ctx, now, "key_a"); !ok {
		t.Fatal("the cached state should still be used")
	}
	now = now.Add(time.Second)
	if ok, _ := c.Active(ctx, now, "key_a"); ok {
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
		if ok, err := c.Active(context.Background(), time.Now(), "key_gone"); ok || err != nil {
			t.Fatalf("Active = %v, %v", ok, err)
		}
	}
	if src.reads != 1 {
		t.Fatalf("%d reads, want 1", src.reads)
	}
}

func TestStatusCacheDoesNotCacheErrors(t *testing.T) {
	src := &flakySource{states: map[string]KeyState{"key_a": {}}, err: errors.New("throttled")}
	c := &StatusCache{Source: src}
	if _, err := c.Active(context.Background(), time.Now(), "key_a"); err == nil {
		t.Fatal("a failed read must surface")
	}
	src.err = nil
	if ok, err := c.Active(context.Background(), time.Now(), "key_a"); !ok || err != nil {
		t.Fatalf("after recovery: %v, %v", ok, err)
	}
	if src.reads != 2 {
		t.Fatalf("%d reads, want 2", src.reads)
	}
}

func TestStatusCacheTTLIsCapped(t *testing.T) {
	now := time.Now()
	src := &flakySource{states: map[string]KeyState{"key_a": {}}}
	c := &StatusCache{Source: src, TTL: time.Hour, Now: func() time.Time { return now }}
	c.Active(context.Background(), now, "key_a")
	now = now.Add(StatusTTL)
	c.Active(context.Background(), now, "key_a")
	if src.reads != 2 {
		t.Fatalf("a TTL above %v was honoured (%d reads)", StatusTTL, src.reads)
	}
}

func TestStatusCacheAppliesTheRollRule(t *testing.T) {
	now := time.Now().UTC()
	rolled, graceEnd := now.Add(-time.Minute), now.Add(-time.Second)
	src := &flakySource{states: map[string]KeyState{"key_a": {RolledAt: &rolled, PreviousValidUntil: &graceEnd}}}
	c := &StatusCache{Source: src}
	if ok, _ := c.Active(context.Background(), rolled.Add(-time.Second), "key_a"); ok {
		t.Fatal("a token of the old value survived its grace period")
	}
	if ok, _ := c.Active(context.Background(), rolled, "key_a"); !ok {
		t.Fatal("a token of the new value was refused")
	}
	if src.reads != 1 {
		t.Fatalf("the state is per key, not per token: %d reads", src.reads)
	}
}

func BenchmarkStatusCacheHit(b *testing.B) {
	src := &flakySource{states: map[string]KeyState{"key_a": {}}}
	c := &StatusCache{Source: src}
	ctx, at := context.Background(), time.Now()
	c.Active(ctx, at, "key_a")
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := c.Active(ctx, at, "key_a"); !ok {
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
	src := &idsSource{flakySource: flakySource{states: map[string]KeyState{"key_s": {}, "key_p": {}, "key_x": {Revoked: true}}}}
	c := &StatusCache{Source: src, Now: func() time.Time { return now }}
	ctx := context.Background()
	if ok, _ := c.Active(ctx, now, "key_s", "key_p"); !ok {
		t.Fatal("both keys stand")
	}
	if ok, _ := c.Active(ctx, now, "key_s", "key_x"); ok {
		t.Fatal("one revoked key must refuse the token")
	}
	if len(src.asked) != 2 || len(src.asked[0]) != 2 || len(src.asked[1]) != 1 || src.asked[1][0] != "key_x" {
		t.Fatalf("reads %v: want [key_s key_p] then only [key_x]", src.asked)
	}
}
