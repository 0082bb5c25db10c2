package apikey

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/scope"
)

var (
	ctx      = context.Background()
	stranger = Caller{MID: "mid_other", KeyID: "key_other", Scopes: owner.Scopes}
)

// mustCreate creates a key for owner through the service.
func mustCreate(t *testing.T, svc *Service, typ Type, scopes ...string) Created {
	t.Helper()
	in := CreateInput{MID: owner.MID, Name: "n", Type: typ}
	if scopes != nil {
		in.Scopes = scopes
	}
	c, err := svc.Create(ctx, owner, in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clock returns a settable clock starting at now.
func clock(svc *Service) *time.Time {
	t := now
	svc.Now = func() time.Time { return t }
	return &t
}

func TestGetHidesOtherMerchantsAndMissingKeysAlike(t *testing.T) {
	svc, _, _ := newService()
	k := mustCreate(t, svc, Secret)
	for name, tc := range map[string]struct {
		c  Caller
		id string
	}{
		"other merchant": {stranger, k.Key.ID},
		"missing":        {owner, NewID(now)},
		"not an id":      {owner, "key_../../x"},
		"empty":          {owner, ""},
	} {
		if _, err := svc.Get(ctx, tc.c, tc.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
}

func TestGetShowsValueOnlyForPublicAndTokenizationKeys(t *testing.T) {
	svc, _, _ := newService()
	for _, typ := range []Type{Secret, Public, Tokenization} {
		c := mustCreate(t, svc, typ)
		v, err := svc.Get(ctx, owner, c.Key.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := c.Value
		if typ == Secret {
			want = ""
		}
		if v.Value != want || v.Key.ID != c.Key.ID || v.Key.LastFour != LastFour(c.Value) {
			t.Errorf("%s: value %q last four %q, want %q", typ, v.Value, v.Key.LastFour, want)
		}
	}
}

func TestListPagesThroughEveryKeyNewestFirst(t *testing.T) {
	svc, _, _ := newService()
	clk := clock(svc)
	var want []string
	for range 7 {
		*clk = clk.Add(time.Millisecond)
		want = append(want, mustCreate(t, svc, Public).Key.ID)
	}
	slices.Reverse(want)
	var got []string
	in := ListInput{MID: owner.MID, Limit: 3}
	for pages := 1; ; pages++ {
		p, err := svc.List(ctx, owner, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range p.Keys {
			got = append(got, k.ID)
		}
		if p.NextCursor == "" {
			if pages != 3 {
				t.Fatalf("%d pages, want 3", pages)
			}
			break
		}
		in.Cursor = p.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v\nwant   %v", got, want)
	}
}

func TestListExcludesDeletedKeysUnlessAll(t *testing.T) {
	svc, _, _ := newService()
	a := mustCreate(t, svc, Public)
	b := mustCreate(t, svc, Public)
	if _, err := svc.Delete(ctx, owner, a.Key.ID); err != nil {
		t.Fatal(err)
	}
	p, _ := svc.List(ctx, owner, ListInput{MID: owner.MID, Limit: 10})
	if len(p.Keys) != 1 || p.Keys[0].ID != b.Key.ID {
		t.Fatalf("default listing: %+v", p.Keys)
	}
	p, _ = svc.List(ctx, owner, ListInput{MID: owner.MID, Limit: 10, IncludeRevoked: true})
	if len(p.Keys) != 2 {
		t.Fatalf("status=all listing: %+v", p.Keys)
	}
}

func TestListRefuses(t *testing.T) {
	svc, _, _ := newService()
	for range 3 {
		mustCreate(t, svc, Public)
	}
	p, err := svc.List(ctx, owner, ListInput{MID: owner.MID, Limit: 1})
	if err != nil || p.NextCursor == "" {
		t.Fatalf("first page: %v %q", err, p.NextCursor)
	}
	all, _ := svc.List(ctx, owner, ListInput{MID: owner.MID, Limit: 1, IncludeRevoked: true})
	flipped := []byte(p.NextCursor)
	flipped[len(flipped)/2] ^= 1
	otherKey := *svc
	otherKey.CursorKey = []byte("another key, at least 32 bytes long")
	foreign, _ := (&otherKey).List(ctx, owner, ListInput{MID: owner.MID, Limit: 1})

	tests := []struct {
		name string
		c    Caller
		in   ListInput
		want error
	}{
		{"other merchant's mid", owner, ListInput{MID: stranger.MID, Limit: 1}, ErrForeignMerchant},
		{"tampered cursor", owner, ListInput{MID: owner.MID, Limit: 1, Cursor: string(flipped)}, ErrInvalidCursor},
		{"garbage cursor", owner, ListInput{MID: owner.MID, Limit: 1, Cursor: "not a cursor"}, ErrInvalidCursor},
		{"cursor of another filter", owner, ListInput{MID: owner.MID, Limit: 1, Cursor: all.NextCursor}, ErrInvalidCursor},
		{"cursor signed with another key", owner, ListInput{MID: owner.MID, Limit: 1, Cursor: foreign.NextCursor}, ErrInvalidCursor},
		{"cursor of another merchant", stranger, ListInput{MID: stranger.MID, Limit: 1, Cursor: p.NextCursor}, ErrInvalidCursor},
	}
	for _, tt := range tests {
		if _, err := svc.List(ctx, tt.c, tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	for _, limit := range []int{0, -1, MaxListLimit + 1} {
		var ve *ValidationError
		if _, err := svc.List(ctx, owner, ListInput{MID: owner.MID, Limit: limit}); !errors.As(err, &ve) || ve.Problems[0] != MsgInvalidLimit {
			t.Errorf("limit %d: err = %v", limit, err)
		}
	}
	noKey := *svc
	noKey.CursorKey = nil
	if _, err := (&noKey).List(ctx, owner, ListInput{MID: owner.MID, Limit: 1}); err == nil {
		t.Error("listing without a cursor key must fail")
	}
}

func TestDeleteRevokesAndRemovesEveryLookup(t *testing.T) {
	svc, st, _ := newService()
	clk := clock(svc)
	k := mustCreate(t, svc, Secret, "charges:read")
	if _, err := svc.Roll(ctx, owner, k.Key.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if len(st.digests) != 2 {
		t.Fatalf("%d lookups during the grace period, want 2", len(st.digests))
	}
	*clk = clk.Add(time.Minute)
	d, err := svc.Delete(ctx, owner, k.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Key.Revoked || !d.Key.RevokedAt.Equal(clk.Truncate(time.Second)) || d.LastManager {
		t.Fatalf("deleted %+v", d)
	}
	if len(st.digests) != 0 {
		t.Fatalf("%d lookups left after delete, want 0", len(st.digests))
	}
	rec, _ := st.GetKey(ctx, k.Key.ID)
	if !rec.Key.Revoked {
		t.Fatal("record not marked revoked")
	}
	// Again: success, nothing changes.
	*clk = clk.Add(time.Minute)
	d2, err := svc.Delete(ctx, owner, k.Key.ID)
	if err != nil || !d2.Key.RevokedAt.Equal(*d.Key.RevokedAt) {
		t.Fatalf("second delete: %+v %v", d2, err)
	}
	if _, err := svc.Delete(ctx, stranger, k.Key.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("foreign delete: err = %v", err)
	}
}

func TestDeleteWarnsWhenTheLastKeyManagerGoes(t *testing.T) {
	svc, _, _ := newService()
	clk := clock(svc)
	a := mustCreate(t, svc, Secret, scope.APIKeysWrite)
	b := mustCreate(t, svc, Secret, scope.APIKeysWrite, "charges:read")
	mustCreate(t, svc, Secret, "charges:read") // cannot manage keys
	mustCreate(t, svc, Public)
	if _, err := svc.Create(ctx, owner, CreateInput{MID: owner.MID, Name: "n", Type: Secret, Scopes: []string{scope.APIKeysWrite}, ExpiresAt: ptr(now.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	*clk = clk.Add(2 * time.Hour) // that one has expired: it manages nothing
	steps := []struct {
		id   string
		last bool
	}{{a.Key.ID, false}, {b.Key.ID, true}}
	for _, s := range steps {
		d, err := svc.Delete(ctx, owner, s.id)
		if err != nil || d.LastManager != s.last {
			t.Fatalf("delete %s: last manager = %v, want %v (%v)", s.id, d.LastManager, s.last, err)
		}
	}
}

func TestDeleteRereadsAfterAConflict(t *testing.T) {
	svc, st, _ := newService()
	k := mustCreate(t, svc, Public)
	st.conflicts = deleteAttempts - 1
	if _, err := svc.Delete(ctx, owner, k.Key.ID); err != nil {
		t.Fatalf("delete after %d conflicts: %v", deleteAttempts-1, err)
	}
	k = mustCreate(t, svc, Public)
	st.conflicts = deleteAttempts
	if _, err := svc.Delete(ctx, owner, k.Key.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("endless conflicts: err = %v", err)
	}
}

func TestRollWithoutGraceReplacesTheValueAtOnce(t *testing.T) {
	svc, st, _ := newService()
	clk := clock(svc)
	k := mustCreate(t, svc, Secret, "charges:read")
	*clk = clk.Add(90 * time.Second)
	r, err := svc.Roll(ctx, owner, k.Key.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Value == k.Value || r.Key.ID != k.Key.ID || r.Key.Type != Secret || !slices.Equal(r.Key.Scopes, []string{"charges:read"}) {
		t.Fatalf("rolled %+v", r.Key)
	}
	if _, err := ParseValue(r.Value, Sandbox); err != nil {
		t.Fatalf("new value %v", err)
	}
	at := clk.Truncate(time.Second)
	if !r.Key.RolledAt.Equal(at) || !r.Key.PreviousValidUntil.Equal(at) || r.Key.LastFour != LastFour(r.Value) {
		t.Fatalf("rolled_at %v previous_valid_until %v", r.Key.RolledAt, r.Key.PreviousValidUntil)
	}
	if _, old := st.digests[DigestOf(k.Value)]; old {
		t.Fatal("old value still has a lookup")
	}
	if id := st.digests[DigestOf(r.Value)]; id != k.Key.ID || len(st.digests) != 1 {
		t.Fatalf("lookups %v", st.digests)
	}
	rec, _ := st.GetKey(ctx, k.Key.ID)
	if string(rec.Sealed.Ciphertext) != r.Value || rec.PreviousDigest != nil {
		t.Fatal("the sealed value was not replaced by the new one")
	}
}

func TestRollWithGraceKeepsTheOldValueAndARollEndsAnEarlierGrace(t *testing.T) {
	svc, st, _ := newService()
	clk := clock(svc)
	k := mustCreate(t, svc, Public)
	first, err := svc.Roll(ctx, owner, k.Key.ID, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(10 * time.Minute); !first.Key.PreviousValidUntil.Equal(want) {
		t.Fatalf("previous_valid_until %v, want %v", first.Key.PreviousValidUntil, want)
	}
	if len(st.digests) != 2 {
		t.Fatalf("%d lookups, want old and new", len(st.digests))
	}
	*clk = clk.Add(time.Minute)
	second, err := svc.Roll(ctx, owner, k.Key.ID, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, original := st.digests[DigestOf(k.Value)]
	_, firstKept := st.digests[DigestOf(first.Value)]
	_, secondNew := st.digests[DigestOf(second.Value)]
	if original || !firstKept || !secondNew {
		t.Fatalf("after the second roll: original %v, first %v, second %v; want false true true", original, firstKept, secondNew)
	}
}

func TestRollGraceIsRoundedUpToWholeSeconds(t *testing.T) {
	svc, _, _ := newService()
	clk := clock(svc)
	k := mustCreate(t, svc, Public)
	*clk = now.Add(1500 * time.Millisecond)
	r, err := svc.Roll(ctx, owner, k.Key.ID, time.Second)
	if want := now.Add(3 * time.Second); err != nil || !r.Key.PreviousValidUntil.Equal(want) || !r.Key.RolledAt.Equal(now.Add(time.Second)) {
		t.Fatalf("1 s grace at +1.5 s: until %v, rolled %v; want %v (%v)", r.Key.PreviousValidUntil, r.Key.RolledAt, want, err)
	}
}

func TestRollRefuses(t *testing.T) {
	svc, st, _ := newService()
	clk := clock(svc)
	deleted := mustCreate(t, svc, Public)
	if _, err := svc.Delete(ctx, owner, deleted.Key.ID); err != nil {
		t.Fatal(err)
	}
	expired, _ := svc.Create(ctx, owner, CreateInput{MID: owner.MID, Name: "n", Type: Public, ExpiresAt: ptr(now.Add(time.Hour))})
	live := mustCreate(t, svc, Public)
	*clk = clk.Add(2 * time.Hour)
	var ve *ValidationError
	tests := []struct {
		name  string
		c     Caller
		id    string
		grace time.Duration
		want  func(error) bool
	}{
		{"deleted", owner, deleted.Key.ID, 0, func(e error) bool { return errors.Is(e, ErrRevoked) }},
		{"expired", owner, expired.Key.ID, 0, func(e error) bool { return errors.Is(e, ErrExpired) }},
		{"other merchant", stranger, live.Key.ID, 0, func(e error) bool { return errors.Is(e, ErrNotFound) }},
		{"negative grace", owner, live.Key.ID, -time.Second, func(e error) bool { return errors.As(e, &ve) }},
		{"grace over a day", owner, live.Key.ID, MaxGrace + time.Second, func(e error) bool { return errors.As(e, &ve) }},
	}
	for _, tt := range tests {
		if _, err := svc.Roll(ctx, tt.c, tt.id, tt.grace); !tt.want(err) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
	// A concurrent change is reported, never retried: that would roll twice.
	st.conflicts = 1
	if _, err := svc.Roll(ctx, owner, live.Key.ID, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("conflict: err = %v", err)
	}
	if _, ok := st.digests[DigestOf(live.Value)]; !ok {
		t.Fatal("a refused roll changed the lookups")
	}
	// A digest collision is retried with a new value.
	st.collisions = 1
	if _, err := svc.Roll(ctx, owner, live.Key.ID, 0); err != nil {
		t.Fatalf("collision: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestValidID(t *testing.T) {
	good := NewID(time.Now())
	for id, want := range map[string]bool{
		good:                              true,
		"key_01JD0000000000000000000000":  true,
		"key_01jd0000000000000000000000":  false, // not canonical: ids are issued upper case
		"key_01JD000000000000000000000":   false, // short
		"key_01JD00000000000000000000000": false, // long
		"key_01JD000000000000000000000U":  false, // U is not Crockford base32
		"key_81JD0000000000000000000000":  false, // overflows 128 bits
		"kex_01JD0000000000000000000000":  false,
		"01JD0000000000000000000000":      false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}
