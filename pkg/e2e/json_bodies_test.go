package e2e_test

import (
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// Malformed-body answers of the JSON routes, to the byte.
const (
	wantRollMalformed = `{"errors":["Malformed JSON body."]}` + "\n"
)

// keyListing is the merchant's keys as GET /v1/api-keys?mid= shows them,
// to compare before and after a request that must change nothing.

// A member named twice is malformed on every JSON route, whichever copy
// would have won, at any depth, and the same bytes always get that answer.
func TestDuplicateMembers400(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	rt := apitest.Str(apitest.Exchange(t, m), "refreshToken")
	sec := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"server","type":"secret","scopes":["charges:read"]}`)
	roll := "/v1/api-keys/" + apitest.Str(sec, "id") + "/roll"
	create := func(members string) string {
		return `{"mid":"` + m.MID + `","type":"secret",` + members + `}`
	}
	tests := []struct {
		name, path, body, want string
	}{
		{"create: name twice", "/v1/api-keys", create(`"name":"a","name":"b"`), apitest.FailedCreation("Malformed JSON body.")},
		{"create: same name twice", "/v1/api-keys", create(`"name":"a","name":"a"`), apitest.FailedCreation("Malformed JSON body.")},
		{"create: scopes twice", "/v1/api-keys", create(`"name":"a","scopes":["charges:read"],"scopes":["api-keys:write"]`), apitest.FailedCreation("Malformed JSON body.")},
		{"create: mid twice", "/v1/api-keys", create(`"name":"a","mid":"` + m.MID + `"`), apitest.FailedCreation("Malformed JSON body.")},
		{"create: escaped twin", "/v1/api-keys", create(`"name":"a","n\u0061me":"b"`), apitest.FailedCreation("Malformed JSON body.")},
		{"create: null twice", "/v1/api-keys", create(`"expires_at":null,"name":"a","expires_at":null`), apitest.FailedCreation("Malformed JSON body.")},
		{"create: twice in a nested object", "/v1/api-keys", create(`"name":"a","extra":{"x":1,"x":2}`), apitest.FailedCreation("Malformed JSON body.")},
		{"roll: grace twice", roll, `{"grace_seconds":60,"grace_seconds":0}`, wantRollMalformed},
		{"token: AppKey twice", "/v1/oauth2/token", `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `","AppKey":"` + m.AppKey + `"}`, apitest.WantTokenMalformed},
		{"token: AppSecret twice, one wrong", "/v1/oauth2/token", `{"AppKey":"` + m.AppKey + `","AppSecret":"x","AppSecret":"` + m.AppSecret + `"}`, apitest.WantTokenMalformed},
		{"token: RefreshToken twice", "/v1/oauth2/token", `{"RefreshToken":"` + rt + `","RefreshToken":"` + rt + `"}`, apitest.WantTokenMalformed},
	}
	before := apitest.KeyListing(t, apitest.App(), tok, m)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 {
				r := apitest.Do(t, apitest.App(), "POST", tt.path, apitest.Bearer(tok), tt.body)
				if r.Status != 400 || r.Raw != tt.want {
					t.Fatalf("%s\n%d %s\nwant %s", tt.body, r.Status, r.Raw, tt.want)
				}
			}
			if after := apitest.KeyListing(t, apitest.App(), tok, m); after != before {
				t.Fatalf("the keys changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	apitest.AssertPair( // Neither the rolled key nor the refresh token was used up.
		t, apitest.App(), m.AppKey, apitest.Str(sec, "value"), true)
	if r := apitest.RefreshJSON(t, rt); r.Status != 200 {
		t.Fatalf("refresh token after the refused requests: %d %s", r.Status, r.Raw)
	}
}
