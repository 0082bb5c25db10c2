package routefuzz

import (
	"net/url"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// TestTheStackServesEveryRoute makes sure the fuzz targets start from
// requests that succeed, so that fuzzing reaches past the refusals.
func TestTheStackServesEveryRoute(t *testing.T) {
	s := newStack(t)
	bearer := map[string]string{"Authorization": "Bearer " + s.bearer, "Content-Type": "application/json"}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": apitest.BasicAuth(appKey, appSecret)}
	tests := []struct {
		name string
		req  request
		want int
	}{
		{"create", request{method: "POST", path: "/v1/api-keys", header: bearer, body: []byte(`{"mid":"` + mid + `","name":"n","type":"secret"}`)}, 201},
		{"roll", request{method: "POST", path: "/v1/api-keys/" + otherID + "/roll", header: bearer, body: []byte(`{"grace_seconds":60}`)}, 200},
		{"get", request{method: "GET", path: "/v1/api-keys/" + otherID, header: bearer}, 200},
		{"list", request{method: "GET", path: "/v1/api-keys", query: "mid=" + mid, header: bearer}, 200},
		{"list by path", request{method: "GET", path: "/v1/api-keys/" + mid, header: bearer}, 200},
		{"delete", request{method: "DELETE", path: "/v1/api-keys/" + otherID, header: bearer}, 200},
		{"exchange", request{method: "POST", path: "/v1/oauth2/token", header: apitest.JSONCT, body: []byte(`{"AppKey":"` + appKey + `","AppSecret":"` + appSecret + `"}`)}, 200},
		{"refresh", request{method: "POST", path: "/v1/oauth2/token", header: apitest.JSONCT, body: []byte(`{"RefreshToken":"` + refresh + `"}`)}, 200},
		{"client credentials", request{method: "POST", path: "/v1/oauth2/token", header: form, body: []byte("grant_type=client_credentials")}, 200},
		{"form refresh", request{method: "POST", path: "/v1/oauth2/token", header: form, body: []byte(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode())}, 200},
		{"revoke", request{method: "POST", path: "/v1/oauth2/revoke", header: form, body: []byte("token=" + refresh)}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := s.serve(tt.req); rec.Code != tt.want {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			s.check(t, tt.req)
		})
	}
}
