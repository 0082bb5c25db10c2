package handlers_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rollMembers are the members of a roll's 200 body for a key without expiry.
var rollMembers = []string{"created_at", "errors", "id", "mid", "name", "previous_valid_until", "rolled_at", "scopes", "type", "value"}

func TestLifecycleRollWithoutGraceStopsTheOldValueAtOnce(t *testing.T) {
	clk, h, m, tok := clockedMerchant(t)
	sec := mustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"server","type":"secret","scopes":["charges:read","api-keys:read"]}`)
	id, old := str(sec, "id"), str(sec, "value")
	clk.Advance(90 * time.Second)

	for _, body := range []string{"", `{}`} { // no body and an empty object both mean grace 0
		r := do(t, h, "POST", "/v1/api-keys/"+id+"/roll", bearer(tok), body)
		if r.Status != 200 || len(errorsOf(r)) != 0 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if got := members(r.Body); !slices.Equal(got, rollMembers) {
			t.Fatalf("members %v", got)
		}
		now := clk.Now().Format(time.RFC3339)
		value := str(r, "value")
		if str(r, "id") != id || str(r, "type") != "secret" || !strings.HasPrefix(value, "sk_test_") || value == old ||
			str(r, "created_at") != str(sec, "created_at") || str(r, "rolled_at") != now || str(r, "previous_valid_until") != now {
			t.Fatalf("body %s", r.Raw)
		}
		if s := r.Body["scopes"].([]any); len(s) != 2 || s[0] != "charges:read" || s[1] != "api-keys:read" {
			t.Fatalf("scopes %v", s)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("a response holding a secret must not be cached")
		}
		assertPair(t, h, m.AppKey, old, false)
		assertPair(t, h, m.AppKey, value, true)
		if digestLookup(t, old) != nil {
			t.Fatal("the old lookup survived a roll without grace")
		}
		// The record carries what the token path needs to end older tokens.
		rec := keyRecord(t, id)
		if attrS(rec, "rolled_at") != now || attrS(rec, "previous_valid_until") != now || attrS(rec, "last_four") != value[len(value)-4:] {
			t.Fatalf("record rolled_at %q previous_valid_until %q", attrS(rec, "rolled_at"), attrS(rec, "previous_valid_until"))
		}
		g := do(t, h, "GET", "/v1/api-keys/"+id, bearer(tok), "")
		if str(g, "last_four") != value[len(value)-4:] || str(g, "rolled_at") != now || g.Body["value"] != nil {
			t.Fatalf("get after roll: %s", g.Raw)
		}
		old = value
		clk.Advance(time.Second)
	}
	assertKeyCount(t, m, 3) // same key, no new record
}

func TestLifecycleRollWithShortGrace(t *testing.T) {
	clk, h, m, tok := clockedMerchant(t)
	sec := mustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"server","type":"secret","scopes":["charges:read"]}`)
	id, v0 := str(sec, "id"), str(sec, "value")

	start := clk.Now()
	r := do(t, h, "POST", "/v1/api-keys/"+id+"/roll", bearer(tok), `{"grace_seconds":60}`)
	if r.Status != 200 || str(r, "previous_valid_until") != start.Add(time.Minute).Format(time.RFC3339) || str(r, "rolled_at") != start.Format(time.RFC3339) {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	v1 := str(r, "value")
	// The old lookup has its end and a TTL.
	lookup := digestLookup(t, v0)
	if attrS(lookup, "valid_until") != start.Add(time.Minute).Format(time.RFC3339) || attrN(lookup, "ttl") != strconv.FormatInt(start.Add(time.Minute).Unix(), 10) {
		t.Fatalf("old lookup valid_until %q ttl %q", attrS(lookup, "valid_until"), attrN(lookup, "ttl"))
	}
	assertPair(t, h, m.AppKey, v0, true)
	assertPair(t, h, m.AppKey, v1, true)
	clk.Advance(59 * time.Second)
	assertPair(t, h, m.AppKey, v0, true)
	clk.Advance(time.Second)
	assertPair(t, h, m.AppKey, v0, false)
	assertPair(t, h, m.AppKey, v1, true)
}

func TestLifecycleRollAgainEndsTheEarlierGraceAtOnce(t *testing.T) {
	clk, h, m, tok := clockedMerchant(t)
	sec := mustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"server","type":"secret","scopes":["charges:read"]}`)
	id, v0 := str(sec, "id"), str(sec, "value")
	v1 := str(do(t, h, "POST", "/v1/api-keys/"+id+"/roll", bearer(tok), `{"grace_seconds":3600}`), "value")
	clk.Advance(time.Minute)
	assertPair(t, h, m.AppKey, v0, true)
	r := do(t, h, "POST", "/v1/api-keys/"+id+"/roll", bearer(tok), `{"grace_seconds":3600}`)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	v2 := str(r, "value")
	assertPair(t, h, m.AppKey, v0, false) // its grace ended with the second roll
	assertPair(t, h, m.AppKey, v1, true)  // in its own grace period
	assertPair(t, h, m.AppKey, v2, true)
	if digestLookup(t, v0) != nil {
		t.Fatal("the first value's lookup survived the second roll")
	}
}

func TestLifecycleRollPublicAndTokenizationKeys(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	r := do(t, app(), "POST", "/v1/api-keys/"+m.PublicKeyID+"/roll", bearer(tok), `{"grace_seconds":0}`)
	pk := str(r, "value")
	if r.Status != 200 || !strings.HasPrefix(pk, "pk_test_") || str(r, "type") != "public" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	assertPair(t, app(), m.AppKey, m.AppSecret, false)
	assertPair(t, app(), pk, m.AppSecret, true)
	if g := do(t, app(), "GET", "/v1/api-keys/"+m.PublicKeyID, bearer(tok), ""); str(g, "value") != pk {
		t.Fatalf("get shows %q, want the new value", str(g, "value"))
	}

	tk := mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"vault","type":"tokenization"}`)
	r = do(t, app(), "POST", "/v1/api-keys/"+str(tk, "id")+"/roll", bearer(tok), "")
	if r.Status != 200 || !strings.HasPrefix(str(r, "value"), "tk_test_") || str(r, "value") == str(tk, "value") {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if s := r.Body["scopes"].([]any); len(s) != 1 || s[0] != "tokenize" {
		t.Fatalf("scopes %v", s)
	}
	if g := do(t, app(), "GET", "/v1/api-keys/"+str(tk, "id"), bearer(tok), ""); str(g, "value") != str(r, "value") {
		t.Fatalf("get shows %q, want the new value", str(g, "value"))
	}
}

func TestLifecycleRoll4xx(t *testing.T) {
	m := newMerchant(t)
	other := newMerchant(t)
	tok := tokenFor(t, m)
	gone := mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"gone","type":"public"}`)
	do(t, app(), "DELETE", "/v1/api-keys/"+str(gone, "id"), bearer(tok), "")
	roll := func(id string) string { return "/v1/api-keys/" + id + "/roll" }
	tests := []struct {
		name, path, ct, body string
		status               int
		want                 []string
	}{
		{"negative grace", roll(m.PublicKeyID), "application/json", `{"grace_seconds":-1}`, 400, []string{"Invalid grace_seconds value."}},
		{"grace over a day", roll(m.PublicKeyID), "application/json", `{"grace_seconds":86401}`, 400, []string{"Invalid grace_seconds value."}},
		{"grace as a string", roll(m.PublicKeyID), "application/json", `{"grace_seconds":"60"}`, 400, []string{"Invalid grace_seconds value."}},
		{"fractional grace", roll(m.PublicKeyID), "application/json", `{"grace_seconds":1.5}`, 400, []string{"Invalid grace_seconds value."}},
		{"unknown member", roll(m.PublicKeyID), "application/json", `{"grace":60,"grace_seconds":5}`, 400, []string{"Unknown field: grace."}},
		{"malformed JSON", roll(m.PublicKeyID), "application/json", `{"grace_seconds":`, 400, []string{"Malformed JSON body."}},
		{"not JSON", roll(m.PublicKeyID), "text/plain", `grace=60`, 415, []string{"Content-Type must be application/json."}},
		{"too large", roll(m.PublicKeyID), "application/json", `{"x":"` + strings.Repeat("x", 16<<10) + `"}`, 413, []string{"Request body too large."}},
		{"other merchant's key", roll(other.SecretKeyID), "application/json", `{}`, 404, []string{"API key not found."}},
		{"missing key", roll("key_01JD0000000000000000000000"), "application/json", `{}`, 404, []string{"API key not found."}},
		{"deleted key", roll(str(gone, "id")), "application/json", `{}`, 409, []string{"The API key has been deleted."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hd := bearer(tok)
			hd["Content-Type"] = tt.ct
			r := do(t, app(), "POST", tt.path, hd, tt.body)
			if r.Status != tt.status || !slices.Equal(errorsOf(r), tt.want) || len(r.Body) != 1 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	assertPair(t, app(), m.AppKey, m.AppSecret, true)
	assertPair(t, app(), other.AppKey, other.AppSecret, true)
}
