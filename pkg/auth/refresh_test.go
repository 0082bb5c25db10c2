package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/audit"
)

func (f *fixture) exchange(t *testing.T, requested ...string) Tokens {
	t.Helper()
	var req []string
	if len(requested) > 0 {
		req = requested
	}
	tok, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, req)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) record(t *testing.T, rt string) *RefreshRecord {
	t.Helper()
	r, _ := f.store.LookupRefresh(context.Background(), sha256.Sum256([]byte(rt)))
	if r == nil {
		t.Fatalf("no record for the refresh token")
	}
	return r
}

func TestRefreshRotates(t *testing.T) {
	f := newFixture(t)
	first := f.exchange(t)
	f.now = f.now.Add(time.Minute)
	second, err := f.svc.Refresh(context.Background(), first.RefreshToken, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || second.ClientID != f.pubID {
		t.Fatalf("not a new pair: %+v", second)
	}
	old, next := f.record(t, first.RefreshToken), f.record(t, second.RefreshToken)
	if old.RotatedAt == nil || !old.RotatedAt.Equal(f.now) {
		t.Fatalf("the old token is not marked rotated: %+v", old)
	}
	if next.FamilyID != old.FamilyID || !next.AuthTime.Equal(old.AuthTime) || next.Scope != old.Scope {
		t.Fatalf("the family, auth time and scope must carry over: %+v vs %+v", next, old)
	}
	if !f.store.lastUsed[f.secID].Equal(f.now) || !f.store.lastUsed[f.pubID].Equal(f.now) {
		t.Fatal("a refresh counts as use of both keys")
	}
}

func TestRefreshReuseRevokesTheFamily(t *testing.T) {
	f := newFixture(t)
	first := f.exchange(t)
	second, err := f.svc.Refresh(context.Background(), first.RefreshToken, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Refresh(context.Background(), first.RefreshToken, nil, nil); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("reuse: %v", err)
	}
	if _, revoked := f.store.families[f.record(t, first.RefreshToken).FamilyID]; !revoked {
		t.Fatal("reuse did not revoke the family")
	}
	if _, err := f.svc.Refresh(context.Background(), second.RefreshToken, nil, nil); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("the successor of a reused token still works: %v", err)
	}
	// Another family of the same client is untouched.
	other := f.exchange(t)
	if _, err := f.svc.Refresh(context.Background(), other.RefreshToken, nil, nil); err != nil {
		t.Fatalf("another family: %v", err)
	}
}

func TestRefreshConcurrentAtMostOneSuccess(t *testing.T) {
	f := newFixture(t)
	first := f.exchange(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 16 {
		wg.Go(func() {
			_, err := f.svc.Refresh(context.Background(), first.RefreshToken, nil, nil)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, ErrInvalidGrant) {
				t.Errorf("unexpected error %v", err)
			}
		})
	}
	wg.Wait()
	if wins > 1 {
		t.Fatalf("%d concurrent refreshes succeeded", wins)
	}
}

func TestRefreshRefused(t *testing.T) {
	past := func(f *fixture) *time.Time { v := f.now.Add(-time.Second); return &v }
	tests := []struct {
		name   string
		token  func(tok Tokens) string
		change func(f *fixture)
		client func(f *fixture) *Client
	}{
		{name: "malformed", token: func(Tokens) string { return "rt_short" }},
		{name: "an access token", token: func(tok Tokens) string { return tok.AccessToken }},
		{name: "unknown", token: func(Tokens) string { return "rt_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }},
		{name: "expired", change: func(f *fixture) { f.now = f.now.Add(RefreshTTL) }},
		{name: "secret key deleted", change: func(f *fixture) { f.store.states[f.secID] = KeyState{MID: f.mid, Generation: 1, Revoked: true} }},
		{name: "public key deleted", change: func(f *fixture) { f.store.states[f.pubID] = KeyState{MID: f.mid, Generation: 1, Revoked: true} }},
		{name: "secret key record gone", change: func(f *fixture) { delete(f.store.states, f.secID) }},
		{name: "secret key expired", change: func(f *fixture) { f.store.states[f.secID] = KeyState{MID: f.mid, Generation: 1, ExpiresAt: past(f)} }},
		{name: "secret rolled twice, in the second grace", change: func(f *fixture) {
			end := f.now.Add(time.Hour)
			f.store.states[f.secID] = KeyState{MID: f.mid, Generation: 3, RolledAt: &f.now, PreviousValidUntil: &end}
		}},
		{name: "secret rolled in the second of the exchange, no grace", change: func(f *fixture) {
			f.store.states[f.secID] = KeyState{MID: f.mid, Generation: 2, RolledAt: &f.now, PreviousValidUntil: &f.now}
		}},
		{name: "secret rolled, grace over", change: func(f *fixture) {
			f.now = f.now.Add(time.Minute)
			f.store.states[f.secID] = KeyState{MID: f.mid, Generation: 2, RolledAt: past(f), PreviousValidUntil: past(f)}
		}},
		{name: "public key rolled, grace over", change: func(f *fixture) {
			f.now = f.now.Add(time.Minute)
			f.store.states[f.pubID] = KeyState{MID: f.mid, Generation: 2, RolledAt: past(f), PreviousValidUntil: past(f)}
		}},
		{name: "revoked", change: func(f *fixture) {
			for _, rec := range f.store.refresh {
				f.store.RevokeFamily(context.Background(), *rec, f.now, f.now.Add(RefreshTTL), nil)
			}
		}},
		{name: "another client", client: func(f *fixture) *Client { return &Client{PublicKeyID: "key_other", SecretKeyID: f.secID, MID: f.mid} }},
		{name: "the right client with another secret key", client: func(f *fixture) *Client { return &Client{PublicKeyID: f.pubID, SecretKeyID: "key_other", MID: f.mid} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok := f.exchange(t)
			rt := tok.RefreshToken
			if tt.token != nil {
				rt = tt.token(tok)
			}
			if tt.change != nil {
				tt.change(f)
			}
			var c *Client
			if tt.client != nil {
				c = tt.client(f)
			}
			if _, err := f.svc.Refresh(context.Background(), rt, c, nil); !errors.Is(err, ErrInvalidGrant) {
				t.Fatalf("err = %v, want ErrInvalidGrant", err)
			}
		})
	}
}

func TestRefreshAcrossARoll(t *testing.T) {
	f := newFixture(t)
	rt := f.exchange(t).RefreshToken
	// The secret is rolled a minute later with an hour of grace.
	f.now = f.now.Add(time.Minute)
	rolled, graceEnd := f.now, f.now.Add(time.Hour)
	f.store.states[f.secID] = KeyState{MID: f.mid, Generation: 2, RolledAt: &rolled, PreviousValidUntil: &graceEnd}
	// Within the grace period the family lives on, and rotation does not
	// launder it: the successor keeps the original auth time.
	f.now = f.now.Add(30 * time.Minute)
	next, err := f.svc.Refresh(context.Background(), rt, nil, nil)
	if err != nil {
		t.Fatalf("in grace: %v", err)
	}
	f.now = graceEnd
	if _, err := f.svc.Refresh(context.Background(), next.RefreshToken, nil, nil); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("after the grace period: %v", err)
	}
}

func TestOldValueInGraceMintsNothingThatOutlivesIt(t *testing.T) {
	f := newFixture(t)
	graceEnd := f.now.Add(2 * time.Minute)
	f.store.creds[sha256.Sum256([]byte(f.appSecret))].ValidUntil = &graceEnd
	tok := f.exchange(t)
	if !tok.ExpiresAt.Equal(graceEnd) {
		t.Fatalf("access token expires %v, want the end of grace %v", tok.ExpiresAt, graceEnd)
	}
	if rec := f.record(t, tok.RefreshToken); rec.ValidUntil == nil || !rec.ValidUntil.Equal(graceEnd) {
		t.Fatalf("refresh record ValidUntil = %v", rec.ValidUntil)
	}
	f.now = graceEnd
	if _, err := f.svc.Refresh(context.Background(), tok.RefreshToken, nil, nil); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("refresh after the grace period: %v", err)
	}
}

func TestScopeNarrowing(t *testing.T) {
	f := newFixture(t)
	tok := f.exchange(t, "api-keys:read", "api-keys:read")
	if tok.Scope != "api-keys:read" {
		t.Fatalf("scope %q", tok.Scope)
	}
	// The refresh token keeps the narrowed grant; a refresh may narrow further
	// but never widen it.
	if _, err := f.svc.Refresh(context.Background(), tok.RefreshToken, nil, []string{"api-keys:write"}); !errors.Is(err, ErrInvalidScope) {
		t.Fatalf("widening on refresh: %v", err)
	}
	next, err := f.svc.Refresh(context.Background(), tok.RefreshToken, nil, nil)
	if err != nil || next.Scope != "api-keys:read" {
		t.Fatalf("refresh: %q %v", next.Scope, err)
	}
	for _, bad := range [][]string{{"api-keys:read", "tokenize"}, {"nonsense"}, {}} {
		if _, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, bad); !errors.Is(err, ErrInvalidScope) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if full := f.exchange(t); full.Scope != "api-keys:read api-keys:write charges:read" {
		t.Fatalf("default scope %q", full.Scope)
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	owner := Client{PublicKeyID: f.pubID, SecretKeyID: f.secID, MID: f.mid}
	stranger := Client{PublicKeyID: "key_other", SecretKeyID: "key_other_sec", MID: "mid_2"}
	tok := f.exchange(t)
	for _, rt := range []string{"", "rt_nope", "rt_" + "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"} {
		if err := f.svc.Revoke(context.Background(), owner, rt); err != nil {
			t.Fatalf("%q: %v", rt, err)
		}
	}
	if err := f.svc.Revoke(context.Background(), stranger, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if len(f.store.families) != 0 {
		t.Fatal("another client revoked the token")
	}
	if err := f.svc.Revoke(context.Background(), owner, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Refresh(context.Background(), tok.RefreshToken, nil, nil); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("a revoked token refreshed: %v", err)
	}
}

func TestExchangeRefusesADeletedKeyRace(t *testing.T) {
	f := newFixture(t)
	// The digest lookup still answers, but the record was revoked meanwhile.
	f.store.states[f.secID] = KeyState{MID: f.mid, Generation: 1, Revoked: true}
	if _, err := f.svc.Exchange(context.Background(), f.appKey, f.appSecret, nil); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("err = %v", err)
	}
}

func TestRefreshFamilyEndsADayAfterItsExchange(t *testing.T) {
	f := newFixture(t)
	start := f.now
	rt := f.exchange(t).RefreshToken
	// Refreshed every 8 hours: each token is young, the family is not.
	for i := 1; i < 3; i++ {
		f.now = start.Add(time.Duration(i) * RefreshTTL / 3)
		next, err := f.svc.Refresh(context.Background(), rt, nil, nil)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		rt = next.RefreshToken
	}
	for _, rec := range f.store.refresh {
		if !rec.ExpiresAt.Equal(start.Add(RefreshTTL)) {
			t.Fatalf("a refresh record expires at %v, want the family's end %v", rec.ExpiresAt, start.Add(RefreshTTL))
		}
	}
	f.now = start.Add(RefreshTTL)
	if _, err := f.svc.Refresh(context.Background(), rt, nil, nil); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("a refresh %v after the exchange: %v, want ErrInvalidGrant", RefreshTTL, err)
	}
}

// TestFamilyRevocationsCarryTheirAuditEvent: an RFC 7009 revocation hands
// the store a refresh.revoked event by the client's secret key, a reuse a
// refresh.reuse_detected event by the system, each naming the family's key
// and never the token.
func TestFamilyRevocationsCarryTheirAuditEvent(t *testing.T) {
	f := newFixture(t)
	owner := Client{PublicKeyID: f.pubID, SecretKeyID: f.secID, MID: f.mid}
	revoked := f.exchange(t).RefreshToken
	if err := f.svc.Revoke(context.Background(), owner, revoked); err != nil {
		t.Fatal(err)
	}
	reused := f.exchange(t).RefreshToken
	if _, err := f.svc.Refresh(context.Background(), reused, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Refresh(context.Background(), reused, nil, nil); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("reuse: %v", err)
	}
	want := []struct{ action, actorType, actorID string }{
		{audit.RefreshRevoked, audit.ActorAPIKey, f.secID},
		{audit.RefreshReuseDetected, audit.ActorSystem, ""},
	}
	if len(f.store.events) != len(want) {
		t.Fatalf("%d events: %+v", len(f.store.events), f.store.events)
	}
	for i, w := range want {
		ev := f.store.events[i]
		if ev.Action != w.action || ev.Actor.Type != w.actorType || ev.Actor.ID != w.actorID || ev.MID != f.mid || ev.KeyID != f.secID ||
			ev.Details["client_id"] != f.pubID || ev.Details["family"] == "" {
			t.Fatalf("event %d: %+v", i, ev)
		}
		for _, v := range ev.Details {
			if s, _ := v.(string); s == revoked || s == reused {
				t.Fatal("an event holds a refresh token")
			}
		}
	}
}
