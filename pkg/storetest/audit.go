package storetest

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/audit"
)

// event is an audit event of the fixture's merchant about k.
func (f *fixture) event(action string, k apikey.Key) *audit.Event {
	ctx := audit.WithOrigin(context.Background(), audit.Origin{RequestID: "req-" + action, SourceIP: "203.0.113.7", UserAgent: "conformance"})
	return audit.New(ctx, f.now, time.Hour, f.mid, action, k.ID, audit.Actor{Type: audit.ActorAPIKey, ID: "key_actor"},
		map[string]any{"name": k.Name, "scopes": []string{"charges:read"}})
}

// trail reads the fixture merchant's whole trail, newest first.
func (f *fixture) trail(q audit.Query) []audit.Event {
	f.Helper()
	q.MID = f.mid
	if q.Limit == 0 {
		q.Limit = audit.MaxLimit
	}
	evs, _, err := f.st.ListEvents(f.ctx, q)
	if err != nil {
		f.Fatalf("list events: %v", err)
	}
	return evs
}

func actions(evs []audit.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Action
	}
	return out
}

var auditCases = []contractCase{
	{"each change writes its event with it, read back whole, newest first", func(f *fixture) {
		nk := f.newKey(apikey.Secret)
		created := f.event(audit.KeyCreated, nk.Key)
		nk.Event = created
		k := f.create(nk)
		r := f.rollover(k, time.Hour)
		r.Event = f.event(audit.KeyRolled, k.Key)
		if err := f.st.RollKey(f.ctx, r); err != nil {
			f.Fatal(err)
		}
		k.apply(r)
		rv := apikey.Revocation{ID: k.Key.ID, Digest: k.Digest, PreviousDigest: k.Previous, At: f.now, Reason: apikey.ReasonDeleted, Event: f.event(audit.KeyDeleted, k.Key)}
		if err := f.st.RevokeKey(f.ctx, rv); err != nil {
			f.Fatal(err)
		}
		got := f.trail(audit.Query{})
		if want := []string{audit.KeyDeleted, audit.KeyRolled, audit.KeyCreated}; !slices.Equal(actions(got), want) {
			f.Fatalf("trail %v, want %v", actions(got), want)
		}
		e := got[2]
		if e.ID != created.ID || e.KeyID != k.Key.ID || e.Actor != created.Actor || e.RequestID != "req-key.created" || e.SourceIP != "203.0.113.7" ||
			e.UserAgent != "conformance" || !e.OccurredAt.Equal(f.now) || e.Details["name"] != k.Key.Name {
			f.Fatalf("event read back as %+v, written %+v", e, created)
		}
		if sk := f.get(k.Key.ID); sk.Key.RevokedReason != apikey.ReasonDeleted {
			f.Fatalf("revoked_reason %q", sk.Key.RevokedReason)
		}
	}},
	{"a refused change writes no event", func(f *fixture) {
		k := f.key(apikey.Secret)
		stale := f.rollover(k, 0)
		stale.OldDigest = randomDigest()
		stale.Event = f.event(audit.KeyRolled, k.Key)
		if err := f.st.RollKey(f.ctx, stale); !errors.Is(err, apikey.ErrConflict) {
			f.Fatalf("%v", err)
		}
		dup := f.newKey(apikey.Secret)
		dup.Digest, dup.Event = k.Digest, f.event(audit.KeyCreated, dup.Key)
		if err := f.st.CreateKey(f.ctx, dup); !errors.Is(err, apikey.ErrDuplicateDigest) {
			f.Fatalf("%v", err)
		}
		if got := f.trail(audit.Query{}); len(got) != 0 {
			f.Fatalf("refused changes wrote %v", actions(got))
		}
	}},
	{"the trail filters by key and action, and pages after an event", func(f *fixture) {
		a, b := f.newKey(apikey.Secret), f.newKey(apikey.Public)
		a.Event, b.Event = f.event(audit.KeyCreated, a.Key), f.event(audit.KeyCreated, b.Key)
		ka, _ := f.create(a), f.create(b)
		rv := apikey.Revocation{ID: ka.Key.ID, Digest: ka.Digest, At: f.now, Reason: apikey.ReasonDeleted, Event: f.event(audit.KeyDeleted, ka.Key)}
		if err := f.st.RevokeKey(f.ctx, rv); err != nil {
			f.Fatal(err)
		}
		if got := f.trail(audit.Query{KeyID: ka.Key.ID}); !slices.Equal(actions(got), []string{audit.KeyDeleted, audit.KeyCreated}) {
			f.Fatalf("by key: %v", actions(got))
		}
		if got := f.trail(audit.Query{Action: audit.KeyCreated}); len(got) != 2 || got[0].KeyID != b.Key.ID {
			f.Fatalf("by action: %+v", got)
		}
		page, more, err := f.st.ListEvents(f.ctx, audit.Query{MID: f.mid, Limit: 2})
		if err != nil || len(page) != 2 || !more {
			f.Fatalf("first page %v more=%v %v", actions(page), more, err)
		}
		rest, more, err := f.st.ListEvents(f.ctx, audit.Query{MID: f.mid, Limit: 2, After: page[1].ID})
		if err != nil || len(rest) != 1 || more || rest[0].ID != a.Event.ID {
			f.Fatalf("second page %v more=%v %v", actions(rest), more, err)
		}
		if got, _, _ := f.st.ListEvents(f.ctx, audit.Query{MID: newMID(), Limit: 5}); len(got) != 0 {
			f.Fatalf("another merchant's trail: %v", actions(got))
		}
	}},
}

var leakCases = []contractCase{
	{"a digest names its key, current or previous value", func(f *fixture) {
		k := f.key(apikey.Secret)
		first := k.Digest
		f.roll(k, time.Hour)
		for _, d := range []apikey.Digest{first, k.Digest} {
			if id, err := f.st.KeyIDByDigest(f.ctx, d); err != nil || id != k.Key.ID {
				f.Fatalf("%q %v", id, err)
			}
		}
		if _, err := f.st.KeyIDByDigest(f.ctx, randomDigest()); !errors.Is(err, apikey.ErrNotFound) {
			f.Fatalf("unknown digest: %v", err)
		}
	}},
	{"ending a grace removes the old value and records its event", func(f *fixture) {
		k := f.key(apikey.Secret)
		old := k.Digest
		f.roll(k, time.Hour)
		ev := f.event(audit.KeyLeaked, k.Key)
		if err := f.st.EndGrace(f.ctx, apikey.GraceEnd{ID: k.Key.ID, PreviousDigest: old, At: f.now, Event: ev}); err != nil {
			f.Fatal(err)
		}
		sk := f.get(k.Key.ID)
		if sk.PreviousDigest != nil || !sk.Key.PreviousValidUntil.Equal(f.now) || !sk.Digest.Equal(k.Digest) || sk.Key.Revoked {
			f.Fatalf("after: %s", showStored(sk))
		}
		if f.lookup(old) != nil || f.lookup(k.Digest) == nil {
			f.Fatal("the lookups after ending the grace are wrong")
		}
		if got := f.trail(audit.Query{}); len(got) != 1 || got[0].ID != ev.ID {
			f.Fatalf("trail %v", actions(got))
		}
		// Again: the record no longer names that value.
		if err := f.st.EndGrace(f.ctx, apikey.GraceEnd{ID: k.Key.ID, PreviousDigest: old, At: f.now, Event: f.event(audit.KeyLeaked, k.Key)}); !errors.Is(err, apikey.ErrConflict) {
			f.Fatalf("again: %v", err)
		}
		if got := f.trail(audit.Query{}); len(got) != 1 {
			f.Fatalf("a refused end of grace wrote an event: %v", actions(got))
		}
	}},
	{"a revocation keeps its reason", func(f *fixture) {
		k := f.key(apikey.Secret)
		if err := f.st.RevokeKey(f.ctx, apikey.Revocation{ID: k.Key.ID, Digest: k.Digest, At: f.now, Reason: apikey.ReasonLeaked}); err != nil {
			f.Fatal(err)
		}
		if sk := f.get(k.Key.ID); sk.Key.RevokedReason != apikey.ReasonLeaked {
			f.Fatalf("reason %q", sk.Key.RevokedReason)
		}
	}},
}
