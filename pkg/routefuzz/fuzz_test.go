package routefuzz

import (
	"net/url"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// Seeds for each target are in testdata/fuzz/<target>; those added here
// need the stack's own bearer token or its fixed credentials.

func FuzzCreate(f *testing.F) {
	s := newStack(f)
	f.Add([]byte(`{"mid":"`+mid+`","name":"My API Key","scopes":["customers:read","charges:read"],"type":"secret"}`), "application/json", "")
	f.Add([]byte(`{"mid":"`+mid+`","name":"n","type":"public","idempotencyKey":"k1"}`), "application/json; charset=utf-8", "k1")
	f.Fuzz(func(t *testing.T, body []byte, contentType, idempotencyKey string) {
		h := map[string]string{"Authorization": "Bearer " + s.bearer, "Content-Type": contentType}
		if idempotencyKey != "" {
			h["Idempotency-Key"] = idempotencyKey
		}
		s.check(t, request{method: "POST", path: "/v1/api-keys", header: h, body: body})
	})
}

func FuzzRoll(f *testing.F) {
	s := newStack(f)
	f.Add([]byte(`{"grace_seconds":3600}`), "application/json")
	f.Add([]byte(``), "")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		h := map[string]string{"Authorization": "Bearer " + s.bearer, "Content-Type": contentType}
		s.check(t, request{method: "POST", path: "/v1/api-keys/" + otherID + "/roll", header: h, body: body})
	})
}

// FuzzList covers the listing's query string, its cursor included, in
// both forms of the route (segment "" is GET /v1/api-keys?mid=…).
func FuzzList(f *testing.F) {
	s := newStack(f)
	f.Add("", "mid="+mid+"&limit=20")
	f.Add(mid, "status=all&cursor=AQAK")
	f.Fuzz(func(t *testing.T, segment, query string) {
		path := "/v1/api-keys"
		if segment != "" {
			path += "/" + segment
		}
		s.check(t, request{method: "GET", path: path, query: query, header: map[string]string{"Authorization": "Bearer " + s.bearer}})
	})
}

// FuzzKeyPath sends each method the key routes know to any id segment.
func FuzzKeyPath(f *testing.F) {
	s := newStack(f)
	f.Add(uint8(0), otherID)
	f.Add(uint8(1), otherID)
	f.Fuzz(func(t *testing.T, method uint8, id string) {
		m := []string{"GET", "DELETE", "POST", "PUT"}[int(method)%4]
		s.check(t, request{method: m, path: "/v1/api-keys/" + id, header: map[string]string{"Authorization": "Bearer " + s.bearer}})
	})
}

func FuzzTokenJSON(f *testing.F) {
	s := newStack(f)
	f.Add([]byte(`{"AppKey":"` + appKey + `","AppSecret":"` + appSecret + `"}`))
	f.Add([]byte(`{"RefreshToken":"` + refresh + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s.check(t, request{method: "POST", path: "/v1/oauth2/token", header: map[string]string{"Content-Type": "application/json"}, body: body})
	})
}

// FuzzTokenForm covers the OAuth 2.0 form body and HTTP Basic credentials.
func FuzzTokenForm(f *testing.F) {
	s := newStack(f)
	basic := apitest.BasicAuth(appKey, appSecret)
	f.Add(url.Values{"grant_type": {"client_credentials"}, "scope": {"api-keys:read"}}.Encode(), basic)
	f.Add(url.Values{"grant_type": {"client_credentials"}, "client_id": {appKey}, "client_secret": {appSecret}}.Encode(), "")
	f.Add(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode(), basic)
	f.Fuzz(func(t *testing.T, body, authorization string) {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if authorization != "" {
			h["Authorization"] = authorization
		}
		s.check(t, request{method: "POST", path: "/v1/oauth2/token", header: h, body: []byte(body)})
	})
}

func FuzzRevoke(f *testing.F) {
	s := newStack(f)
	f.Add(url.Values{"token": {refresh}, "token_type_hint": {"refresh_token"}}.Encode(), apitest.BasicAuth(appKey, appSecret))
	f.Fuzz(func(t *testing.T, body, authorization string) {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if authorization != "" {
			h["Authorization"] = authorization
		}
		s.check(t, request{method: "POST", path: "/v1/oauth2/revoke", header: h, body: []byte(body)})
	})
}
