package apikey

import (
	"context"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/audit"
)

func TestLeakOfACurrentSecretRevokesIt(t *testing.T) {
	svc, st, _ := newService()
	k, err := svc.Create(context.Background(), owner, CreateInput{MID: owner.MID, Name: "n", Type: Secret, Scopes: []string{"charges:read"}})
	if err != nil {
		t.Fatal(err)
	}
	report := LeakReport{Value: k.Value, Source: "commit", URL: "https://github.com/o/r", Partner: "github"}
	got, err := svc.Leak(context.Background(), report)
	if err != nil || !got.Real || got.Action != "revoked" || got.Which != "current" {
		t.Fatalf("%+v %v", got, err)
	}
	sk, _ := st.GetKey(context.Background(), k.Key.ID)
	if !sk.Key.Revoked || sk.Key.RevokedReason != ReasonLeaked {
		t.Fatalf("key %+v", sk.Key)
	}
	ev := st.events[len(st.events)-1]
	if ev.Action != audit.KeyLeaked || ev.Actor != (audit.Actor{Type: audit.ActorSecretScanning, ID: "github"}) ||
		ev.Details["value"] != "current" || ev.Details["source"] != "commit" || ev.Details["url"] != "https://github.com/o/r" {
		t.Fatalf("event %+v", ev)
	}
	// A repeat report changes nothing and records nothing.
	n := len(st.events)
	if got, err := svc.Leak(context.Background(), report); err != nil || got.Action != "" {
		t.Fatalf("repeat: %+v %v", got, err)
	}
	if len(st.events) != n {
		t.Fatal("a repeat report recorded an event")
	}
}

func TestLeakOfAPreviousValueEndsItsGrace(t *testing.T) {
	svc, st, _ := newService()
	k, _ := svc.Create(context.Background(), owner, CreateInput{MID: owner.MID, Name: "n", Type: Secret, Scopes: []string{"charges:read"}})
	rolled, err := svc.Roll(context.Background(), owner, k.Key.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Leak(context.Background(), LeakReport{Value: k.Value, Partner: "github"})
	if err != nil || got.Action != "grace_ended" || got.Which != "previous" {
		t.Fatalf("%+v %v", got, err)
	}
	sk, _ := st.GetKey(context.Background(), k.Key.ID)
	if sk.Key.Revoked || sk.PreviousDigest != nil || !sk.Digest.Equal(DigestOf(rolled.Value)) || !sk.Key.PreviousValidUntil.Equal(now.Truncate(time.Second)) {
		t.Fatalf("key after: %+v", sk)
	}
	if _, ok := st.digests[DigestOf(k.Value)]; ok {
		t.Fatal("the old value still authenticates")
	}
	if ev := st.events[len(st.events)-1]; ev.Action != audit.KeyLeaked || ev.Details["value"] != "previous" {
		t.Fatalf("event %+v", ev)
	}
}

func TestLeakChangesNothingForWhatIsNoSecret(t *testing.T) {
	svc, st, _ := newService()
	pub, _ := svc.Create(context.Background(), owner, CreateInput{MID: owner.MID, Name: "n", Type: Public})
	live, _ := NewValue(Secret, Production)
	unknown, _ := NewValue(Secret, Sandbox)
	broken := unknown[:len(unknown)-1] + "x"
	if broken == unknown {
		broken = unknown[:len(unknown)-1] + "y"
	}
	n := len(st.events)
	for name, tt := range map[string]struct {
		value string
		real  bool
	}{
		"a public value":          {pub.Value, true},
		"another stage's value":   {live, false},
		"a checksum-broken value": {broken, false},
		"an unknown value":        {unknown, false},
		"not a key at all":        {"hello", false},
	} {
		got, err := svc.Leak(context.Background(), LeakReport{Value: tt.value})
		if err != nil || got.Real != tt.real || got.Action != "" {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
	if sk, _ := st.GetKey(context.Background(), pub.Key.ID); sk.Key.Revoked || len(st.events) != n {
		t.Fatal("a report of no secret changed something")
	}
}
