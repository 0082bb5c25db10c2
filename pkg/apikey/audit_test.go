package apikey

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/audit"
)

// TestEveryChangeCarriesItsAuditEvent: create, roll, delete and onboard
// hand the store one event with the contract's fields; idempotent replays
// and repeated deletes hand it none; no event holds a value.
func TestEveryChangeCarriesItsAuditEvent(t *testing.T) {
	svc, st, _ := newService()
	ctx := audit.WithOrigin(context.Background(), audit.Origin{RequestID: "req-1", SourceIP: "203.0.113.7", UserAgent: "curl/8.5.0"})
	in := CreateInput{MID: owner.MID, Name: "Checkout", Type: Secret, Scopes: []string{"charges:read"}}
	created, err := svc.Create(ctx, owner, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateIdempotent(ctx, owner, in, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, replayed, err := svc.CreateIdempotent(ctx, owner, in, "k1"); err != nil || !replayed {
		t.Fatalf("replay: %v %v", replayed, err)
	}
	rolled, err := svc.Roll(ctx, owner, created.Key.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the repeat changes nothing and records nothing
		if _, err := svc.Delete(ctx, owner, created.Key.ID); err != nil {
			t.Fatal(err)
		}
	}
	pub, sec, err := svc.Onboard(ctx, "mid_new", "Shop")
	if err != nil {
		t.Fatal(err)
	}

	want := []struct{ action, mid, keyID, actor string }{
		{audit.KeyCreated, owner.MID, created.Key.ID, owner.KeyID},
		{audit.KeyCreated, owner.MID, "", owner.KeyID}, // the idempotent create, once
		{audit.KeyRolled, owner.MID, created.Key.ID, owner.KeyID},
		{audit.KeyDeleted, owner.MID, created.Key.ID, owner.KeyID},
		{audit.MerchantOnboarded, "mid_new", sec.Key.ID, ""},
	}
	if len(st.events) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(st.events), len(want), st.events)
	}
	for i, w := range want {
		ev := st.events[i]
		if ev.Action != w.action || ev.MID != w.mid || (w.keyID != "" && ev.KeyID != w.keyID) || ev.Actor.ID != w.actor ||
			!strings.HasPrefix(ev.ID, "evt_") || ev.RequestID != "req-1" || ev.SourceIP != "203.0.113.7" || ev.UserAgent != "curl/8.5.0" ||
			!ev.OccurredAt.Equal(now.Truncate(time.Second)) || !ev.ExpiresAt.Equal(ev.OccurredAt.Add(audit.DefaultRetention)) {
			t.Fatalf("event %d: %+v, want %+v", i, ev, w)
		}
	}
	if st.events[0].Actor.Type != audit.ActorAPIKey || st.events[4].Actor.Type != audit.ActorOperator {
		t.Fatalf("actors %+v %+v", st.events[0].Actor, st.events[4].Actor)
	}
	if d := st.events[0].Details; d["type"] != "secret" || d["name"] != "Checkout" {
		t.Fatalf("create details %v", d)
	}
	if d := st.events[2].Details; d["grace_seconds"] != 3600 {
		t.Fatalf("roll details %v", d)
	}
	b, _ := json.Marshal(st.events)
	for _, v := range []string{created.Value, rolled.Value, pub.Value, sec.Value} {
		if strings.Contains(string(b), v) || strings.Contains(string(b), v[8:20]) {
			t.Fatal("an audit event holds a key value")
		}
	}
}
