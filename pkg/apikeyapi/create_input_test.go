package apikeyapi_test

import (
	"net/http"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// createCase is a create body and the problems it must be refused with.
type createCase struct {
	name, body string
	want       []string
}

// createRefused posts each body to POST /v1/api-keys on h and checks the
// exact failed-creation answer, and that the merchant's keys are as before.
func createRefused(t *testing.T, h http.Handler, m apitest.Merchant, tok string, tests []createCase) {
	t.Helper()
	before := apitest.KeyListing(t, h, tok, m)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.Do(t, h, "POST", "/v1/api-keys", apitest.Bearer(tok), tt.body)
			if want := apitest.FailedCreation(tt.want...); r.Status != 400 || r.Raw != want {
				t.Fatalf("%q\n%d %s\nwant %s", tt.body, r.Status, r.Raw, want)
			}
			if after := apitest.KeyListing(t, h, tok, m); after != before {
				t.Fatalf("a refused create changed the keys:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// A member of the wrong type or out of range is that member's Invalid
// problem: never read as absent, so never defaulted.
func TestCreateMemberOfWrongTypeOrRange400(t *testing.T) {
	_, h, m, tok := apitest.MemoryMerchant(t)
	secret := func(members string) string {
		return `{"mid":"` + m.MID + `","name":"n","type":"secret",` + members + `}`
	}
	createRefused(t, h, m, tok, []createCase{
		{"a number among the scopes", secret(`"scopes":["charges:read",1]`), []string{"Invalid scope value."}},
		{"an out-of-range number among the scopes", secret(`"scopes":["charges:read",1e400]`), []string{"Invalid scope value."}},
		{"a huge integer among the scopes", secret(`"scopes":["charges:read",123456789012345678901234567890]`), []string{"Invalid scope value."}},
		{"null among the scopes", secret(`"scopes":["charges:read",null]`), []string{"Invalid scope value."}},
		{"an object among the scopes", secret(`"scopes":["charges:read",{}]`), []string{"Invalid scope value."}},
		{"a nested list of scopes", secret(`"scopes":[["charges:read"]]`), []string{"Invalid scope value."}},
		{"scopes out of range", secret(`"scopes":1e400`), []string{"Invalid scope value."}},
		{"expires_at out of range", secret(`"expires_at":1e400`), []string{"Invalid expires_at value."}},
		{"expires_at out of range, negative", secret(`"expires_at":-1e400`), []string{"Invalid expires_at value."}},
		{"expires_at as epoch seconds", secret(`"expires_at":1900000000`), []string{"Invalid expires_at value."}},
		{"expires_at as an object", secret(`"expires_at":{}`), []string{"Invalid expires_at value."}},
		{"every member out of range", `{"mid":1e400,"name":1e400,"type":1e400,"scopes":[1e400],"expires_at":1e400}`,
			[]string{"Invalid mid.", "Invalid name.", "Invalid type value.", "Invalid scope value.", "Invalid expires_at value."}},
		// JSON decoding would turn the byte into U+FFFD and accept the name.
		{"name that is not UTF-8", `{"mid":"` + m.MID + `","name":"ok` + "\xff" + `","type":"secret"}`, []string{"Invalid name."}},
		{"every member not UTF-8", `{"mid":"` + m.MID + "\xff" + `","name":"` + "\xc3" + `","type":"secret` + "\xfe" +
			`","scopes":["charges:read` + "\xff" + `"],"expires_at":"2030-01-01T00:00:00Z` + "\xff" + `"}`,
			[]string{"Invalid mid.", "Invalid name.", "Invalid type value.", "Invalid scope value.", "Invalid expires_at value."}},
	})
}

// A name is valid UTF-8 without control or bidirectional formatting
// characters, however the JSON spells them.
func TestCreateNameCharacters400(t *testing.T) {
	_, h, m, tok := apitest.MemoryMerchant(t)
	named := func(name string) string {
		return `{"mid":"` + m.MID + `","name":"` + name + `","type":"public"}`
	}
	invalid := []string{"Invalid name."}
	createRefused(t, h, m, tok, []createCase{
		{"NUL", named(`a\u0000b`), invalid},
		{"CR LF", named(`a\r\nINFO forged line`), invalid},
		{"tab", named(`a\tb`), invalid},
		{"ANSI escape", named(`\u001b[31mred\u001b[0m`), invalid},
		{"DEL", named(`a\u007f`), invalid},
		{"C1 NEL as UTF-8", named("a\u0085b"), invalid},
		{"C1 CSI escaped", named(`\u009b31m`), invalid},
		{"RLO as UTF-8", named("invoice\u202Efdp.exe"), invalid},
		{"RLO escaped", named(`invoice\u202efdp.exe`), invalid},
		{"LRM", named(`a\u200e`), invalid},
		{"RLM", named(`a\u200F`), invalid},
		{"LRE", named(`\u202aa`), invalid},
		{"LRI", named(`\u2066a`), invalid},
		{"PDI", named(`a\u2069`), invalid},
		{"invalid UTF-8", named("a\xffb"), invalid},
		{"with another problem", `{"mid":"` + m.MID + `","name":"a\u202e","type":"nope"}`, []string{"Invalid name.", "Invalid type value."}},
	})
}
