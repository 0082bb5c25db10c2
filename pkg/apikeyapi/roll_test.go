package apikeyapi_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// rollMembers are the members of a roll's 200 body for a key without expiry.
var rollMembers = []string{"created_at", "errors", "id", "mid", "name", "previous_valid_until", "rolled_at", "scopes", "type", "value"}

func TestLifecycleRollWithoutGraceStopsTheOldValueAtOnce(t *testing.T) {
	clk, h, m, tok := apitest.ClockedMerchant(t)
	sec := apitest.MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"server","type":"secret","scopes":["charges:read","api-keys:read"]}`)
	id, old := apitest.Str(sec, "id"), apitest.Str(sec, "value")
	clk.Advance(90 * time.Second)

	for _, body := range []string{"", `{}`} { // no body and an empty object both mean grace 0
		r := apitest.Do(t, h, "POST", "/v1/api-keys/"+id+"/roll", apitest.Bearer(tok), body)
		if r.Status != 200 || len(apitest.ErrorsOf(r)) != 0 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if got := apitest.Members(r.Body); !slices.Equal(got, rollMembers) {
			t.Fatalf("members %v", got)
		}
		now := clk.Now().Format(time.RFC3339)
		value := apitest.Str(r, "value")
		if apitest.Str(r, "id") != id || apitest.Str(r, "type") != "secret" || !strings.HasPrefix(value, "sk_test_") || value == old || apitest.Str(r, "created_at") != apitest.Str(sec, "created_at") || apitest.Str(r, "rolled_at") != now || apitest.Str(r, "previous_valid_until") != now {
			t.Fatalf("body %s", r.Raw)
		}
		if s := r.Body["scopes"].([]any); len(s) != 2 || s[0] != "charges:read" || s[1] != "api-keys:read" {
			t.Fatalf("scopes %v", s)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("a response holding a secret must not be cached")
		}
		apitest.AssertPair(t, h, m.AppKey, old, false)
		apitest.AssertPair(t, h, m.AppKey, value, true)
		if apitest.DigestLookup(t, old) != nil {
			t.Fatal("the old lookup survived a roll without grace")
		}
		// The record carries what the token path needs to end older tokens.
		rec := apitest.KeyRecord(t, id)
		if apitest.AttrS(rec, "rolled_at") != now || apitest.AttrS(rec, "previous_valid_until") != now || apitest.AttrS(rec, "last_four") != value[len(value)-4:] {
			t.Fatalf("record rolled_at %q previous_valid_until %q", apitest.AttrS(rec, "rolled_at"), apitest.AttrS(rec, "previous_valid_until"))
		}
		g := apitest.Do(t, h, "GET", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
		if apitest.Str(g, "last_four") != value[len(value)-4:] || apitest.Str(g, "rolled_at") != now || g.Body["value"] != nil {
			t.Fatalf("get after roll: %s", g.Raw)
		}
		old = value
		clk.Advance(time.Second)
	}
	apitest.AssertKeyCount(t, m, 3) // same key, no new record
}

func TestLifecycleRollWithShortGrace(t *testing.T) {
	clk, h, m, tok := apitest.ClockedMerchant(t)
	sec := apitest.MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"server","type":"secret","scopes":["charges:read"]}`)
	id, v0 := apitest.Str(sec, "id"), apitest.Str(sec, "value")

	start := clk.Now()
	r := apitest.Do(t, h, "POST", "/v1/api-keys/"+id+"/roll", apitest.Bearer(tok), `{"grace_seconds":60}`)
	if r.Status != 200 || apitest.Str(r, "previous_valid_until") != start.Add(time.Minute).Format(time.RFC3339) || apitest.Str(r, "rolled_at") != start.Format(time.RFC3339) {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	v1 := apitest.Str(r, "value")
	// The old lookup has its end and a TTL.
	lookup := apitest.DigestLookup(t, v0)
	if apitest.AttrS(lookup, "valid_until") != start.Add(time.Minute).Format(time.RFC3339) || apitest.AttrN(lookup, "ttl") != strconv.FormatInt(start.Add(time.Minute).Unix(), 10) {
		t.Fatalf("old lookup valid_until %q ttl %q", apitest.AttrS(lookup, "valid_until"), apitest.AttrN(lookup, "ttl"))
	}
	apitest.AssertPair(t, h, m.AppKey, v0, true)
	apitest.AssertPair(t, h, m.AppKey, v1, true)
	clk.Advance(59 * time.Second)
	apitest.AssertPair(t, h, m.AppKey, v0, true)
	clk.Advance(time.Second)
	apitest.AssertPair(t, h, m.AppKey, v0, false)
	apitest.AssertPair(t, h, m.AppKey, v1, true)
}

func TestLifecycleRollAgainEndsTheEarlierGraceAtOnce(t *testing.T) {
	clk, h, m, tok := apitest.ClockedMerchant(t)
	sec := apitest.MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"server","type":"secret","scopes":["charges:read"]}`)
	id, v0 := apitest.Str(sec, "id"), apitest.Str(sec, "value")
	v1 := apitest.Str(apitest.Do(t, h, "POST", "/v1/api-keys/"+id+"/roll", apitest.Bearer(tok), `{"grace_seconds":3600}`), "value")
	clk.Advance(time.Minute)
	apitest.AssertPair(t, h, m.AppKey, v0, true)
	r := apitest.Do(t, h, "POST", "/v1/api-keys/"+id+"/roll", apitest.Bearer(tok), `{"grace_seconds":3600}`)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	v2 := apitest.Str(r, "value")
	apitest.AssertPair(t, h, m.AppKey, v0, false)
	apitest.AssertPair( // its grace ended with the second roll
		t, h, m.AppKey, v1, true)
	apitest.AssertPair( // in its own grace period
		t, h, m.AppKey, v2, true)
	if apitest.DigestLookup(t, v0) != nil {
		t.Fatal("the first value's lookup survived the second roll")
	}
}

func TestLifecycleRollPublicAndTokenizationKeys(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys/"+m.PublicKeyID+"/roll", apitest.Bearer(tok), `{"grace_seconds":0}`)
	pk := apitest.Str(r, "value")
	if r.Status != 200 || !strings.HasPrefix(pk, "pk_test_") || apitest.Str(r, "type") != "public" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	apitest.AssertPair(t, apitest.App(), m.AppKey, m.AppSecret, false)
	apitest.AssertPair(t, apitest.App(), pk, m.AppSecret, true)
	if g := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys/"+m.PublicKeyID, apitest.Bearer(tok), ""); apitest.Str(g, "value") != pk {
		t.Fatalf("get shows %q, want the new value", apitest.Str(g, "value"))
	}

	tk := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"vault","type":"tokenization"}`)
	r = apitest.Do(t, apitest.App(), "POST", "/v1/api-keys/"+apitest.Str(tk, "id")+"/roll", apitest.Bearer(tok), "")
	if r.Status != 200 || !strings.HasPrefix(apitest.Str(r, "value"), "tk_test_") || apitest.Str(r, "value") == apitest.Str(tk, "value") {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if s := r.Body["scopes"].([]any); len(s) != 1 || s[0] != "tokenize" {
		t.Fatalf("scopes %v", s)
	}
	if g := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys/"+apitest.Str(tk, "id"), apitest.Bearer(tok), ""); apitest.Str(g, "value") != apitest.Str(r, "value") {
		t.Fatalf("get shows %q, want the new value", apitest.Str(g, "value"))
	}
}

func TestLifecycleRoll4xx(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	gone := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"gone","type":"public"}`)
	apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+apitest.Str(gone, "id"), apitest.Bearer(tok), "")
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
		{"deleted key", roll(apitest.Str(gone, "id")), "application/json", `{}`, 409, []string{"The API key has been deleted."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hd := apitest.Bearer(tok)
			hd["Content-Type"] = tt.ct
			r := apitest.Do(t, apitest.App(), "POST", tt.path, hd, tt.body)
			if r.Status != tt.status || !slices.Equal(apitest.ErrorsOf(r), tt.want) || len(r.Body) != 1 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	apitest.AssertPair(t, apitest.App(), m.AppKey, m.AppSecret, true)
	apitest.AssertPair(t, apitest.App(), other.AppKey, other.AppSecret, true)
}
