package handlers_test

import (
	"net/http"
	"testing"
)

// Malformed-body answers of the JSON routes, to the byte.
const (
	wantTokenMalformed = `{"success":false,"errors":["Malformed JSON body."]}` + "\n"
	wantRollMalformed  = `{"errors":["Malformed JSON body."]}` + "\n"
)

// keyListing is the merchant's keys as GET /v1/api-keys?mid= shows them,
// to compare before and after a request that must change nothing.
func keyListing(t *testing.T, h http.Handler, tok string, m merchant) string {
	t.Helper()
	r := do(t, h, "GET", "/v1/api-keys?mid="+m.MID, bearer(tok), "")
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Raw)
	}
	return r.Raw
}

// A member named twice is malformed on every JSON route, whichever copy
// would have won, at any depth, and the same bytes always get that answer.
func TestDuplicateMembers400(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	rt := str(exchange(t, m), "refreshToken")
	sec := mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"server","type":"secret","scopes":["charges:read"]}`)
	roll := "/v1/api-keys/" + str(sec, "id") + "/roll"
	create := func(members string) string {
		return `{"mid":"` + m.MID + `","type":"secret",` + members + `}`
	}
	tests := []struct {
		name, path, body, want string
	}{
		{"create: name twice", "/v1/api-keys", create(`"name":"a","name":"b"`), failedCreation("Malformed JSON body.")},
		{"create: same name twice", "/v1/api-keys", create(`"name":"a","name":"a"`), failedCreation("Malformed JSON body.")},
		{"create: scopes twice", "/v1/api-keys", create(`"name":"a","scopes":["charges:read"],"scopes":["api-keys:write"]`), failedCreation("Malformed JSON body.")},
		{"create: mid twice", "/v1/api-keys", create(`"name":"a","mid":"` + m.MID + `"`), failedCreation("Malformed JSON body.")},
		{"create: escaped twin", "/v1/api-keys", create(`"name":"a","n\u0061me":"b"`), failedCreation("Malformed JSON body.")},
		{"create: null twice", "/v1/api-keys", create(`"expires_at":null,"name":"a","expires_at":null`), failedCreation("Malformed JSON body.")},
		{"create: twice in a nested object", "/v1/api-keys", create(`"name":"a","extra":{"x":1,"x":2}`), failedCreation("Malformed JSON body.")},
		{"roll: grace twice", roll, `{"grace_seconds":60,"grace_seconds":0}`, wantRollMalformed},
		{"token: AppKey twice", "/v1/oauth2/token", `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `","AppKey":"` + m.AppKey + `"}`, wantTokenMalformed},
		{"token: AppSecret twice, one wrong", "/v1/oauth2/token", `{"AppKey":"` + m.AppKey + `","AppSecret":"x","AppSecret":"` + m.AppSecret + `"}`, wantTokenMalformed},
		{"token: RefreshToken twice", "/v1/oauth2/token", `{"RefreshToken":"` + rt + `","RefreshToken":"` + rt + `"}`, wantTokenMalformed},
	}
	before := keyListing(t, app(), tok, m)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 {
				r := do(t, app(), "POST", tt.path, bearer(tok), tt.body)
				if r.Status != 400 || r.Raw != tt.want {
					t.Fatalf("%s\n%d %s\nwant %s", tt.body, r.Status, r.Raw, tt.want)
				}
			}
			if after := keyListing(t, app(), tok, m); after != before {
				t.Fatalf("the keys changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	// Neither the rolled key nor the refresh token was used up.
	assertPair(t, app(), m.AppKey, str(sec, "value"), true)
	if r := refreshJSON(t, rt); r.Status != 200 {
		t.Fatalf("refresh token after the refused requests: %d %s", r.Status, r.Raw)
	}
}
