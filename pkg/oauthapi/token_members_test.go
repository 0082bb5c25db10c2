package oauthapi_test

import (
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// kelvin spells a name with the Kelvin sign (U+212A) for its k: Unicode
// lower-cases it to k, ASCII does not.
func kelvin(name string) string { return strings.Replace(name, "k", "\u212a", 1) }

// Member names of the upstream token body match ignoring ASCII case only:
// a name that is AppKey only under Unicode case rules names nothing.
func TestTokenMemberNamesFoldASCIIOnly(t *testing.T) {
	_, h, m, _ := apitest.MemoryMerchant(t)
	rt := apitest.Str(apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret), "refreshToken")
	tests := []struct {
		name, body, want string
	}{
		{"Kelvin sign in AppKey", `{"` + kelvin("Appkey") + `":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`, apitest.WantInvalidPair},
		{"Kelvin sign escaped in AppKey", `{"App\u212aey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`, apitest.WantInvalidPair},
		{"long s in AppSecret", `{"AppKey":"` + m.AppKey + `","App\u017fecret":"` + m.AppSecret + `"}`, apitest.WantInvalidPair},
		{"Kelvin sign in RefreshToken", `{"` + kelvin("Refreshtoken") + `":"` + rt + `"}`, apitest.WantInvalidPair},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.Do(t, h, "POST", "/v1/oauth2/token", apitest.JSONCT, tt.body)
			if r.Status != 400 || r.Raw != tt.want {
				t.Fatalf("%d %s\nwant %s", r.Status, r.Raw, tt.want)
			}
		})
	}
	// Beside the real AppKey, the look-alike is just another member.
	body := `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `","` + kelvin("Appkey") + `":"pk_test_x"}`
	for range 5 {
		if r := apitest.Do(t, h, "POST", "/v1/oauth2/token", apitest.JSONCT, body); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
	// The refresh token was not taken for one.
	if r := apitest.RefreshJSONOn(t, h, rt); r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
}

// Names equal but for ASCII case are one member named twice: malformed,
// every time, whichever copy holds the good value.
func TestTokenMembersDifferingInCase400(t *testing.T) {
	_, h, m, tok := apitest.MemoryMerchant(t)
	rt := apitest.Str(apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret), "refreshToken")
	pair := `"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"`
	tests := []struct{ name, body string }{
		{"AppKey and appkey, same value", `{` + pair + `,"appkey":"` + m.AppKey + `"}`},
		{"a wrong AppKey before APPKEY", `{"AppKey":"pk_test_x","APPKEY":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`},
		{"a wrong appSecret after AppSecret", `{` + pair + `,"appSecret":"x"}`},
		{"RefreshToken and refreshToken", `{"RefreshToken":"` + rt + `","refreshToken":"` + rt + `"}`},
		{"a wrong refreshtoken before RefreshToken", `{"refreshtoken":"rt_x","RefreshToken":"` + rt + `"}`},
		{"other members differing in case", `{` + pair + `,"note":1,"NOTE":2}`},
	}
	before := apitest.KeyListing(t, h, tok, m)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 10 {
				r := apitest.Do(t, h, "POST", "/v1/oauth2/token", apitest.JSONCT, tt.body)
				if r.Status != 400 || r.Raw != apitest.WantTokenMalformed {
					t.Fatalf("%s\n%d %s", tt.body, r.Status, r.Raw)
				}
			}
		})
	}
	if after := apitest.KeyListing(t, h, tok, m); after != before {
		t.Fatalf("the keys changed (last_used?):\nbefore %s\nafter  %s", before, after)
	}
	if r := apitest.RefreshJSONOn(t, h, rt); r.Status != 200 {
		t.Fatalf("refresh token after the refused requests: %d %s", r.Status, r.Raw)
	}
}
