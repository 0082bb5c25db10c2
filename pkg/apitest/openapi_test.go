package apitest

import (
	"net/http"
	"strings"
	"testing"
)

// TestConformFindsWhatTheDescriptionLacks: the check every exchange goes
// through accepts a documented exchange and refuses each way of departing
// from the API description.
func TestConformFindsWhatTheDescriptionLacks(t *testing.T) {
	const jwk = `{"kty":"EC","crv":"P-256","x":"FNz_jnE8VQPuHgKCSB59S8e6jvnfxDLBC5ZR0cQ1Y6A","y":"5ssxL7mgjUcv4nAc0aqL3mtztp_zMmuPGUhlhpGAstU","kid":"k","use":"sig","alg":"ES256"}`
	jwks := exchange{method: "GET", target: "/v1/oauth2/jwks", header: http.Header{}}
	jwksOK := `{"keys":[` + jwk + `],"errors":[]}`
	headers := func(kv ...string) http.Header {
		h := http.Header{"X-Request-Id": {"r1"}, "Content-Type": {"application/json; charset=utf-8"}}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	cache := []string{"Cache-Control", "public, max-age=300"}
	create := func(header http.Header, body string) exchange {
		return exchange{method: "POST", target: "/v1/api-keys", header: header, body: []byte(body)}
	}
	failed := FailedCreation("Malformed JSON body.")
	created := `{"id":"key_01JCTDG8G0DG1ZBFG65C3E3KHQ","type":"public","value":"pk_test_rpC9ObTadOQMTeIpj4LRHZKzWrgCqE000000","mid":"mid_1","name":"n","scopes":[],"created_at":"2024-11-16T12:00:00Z","errors":[]}`
	createdHeaders := headers("Location", "/v1/api-keys/key_01JCTDG8G0DG1ZBFG65C3E3KHQ", "Cache-Control", "no-store")
	bearer := http.Header{"Authorization": {"Bearer x"}, "Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		ex     exchange
		status int
		header http.Header
		body   string
		fault  string // "" when the exchange conforms
	}{
		{"documented", jwks, 200, headers(cache...), jwksOK, ""},
		{"undocumented status", jwks, 404, headers(), `{"errors":["x"]}`, "status 404 is not in the API description"},
		{"undocumented response header", jwks, 200, headers(append(cache, "X-Extra", "1")...), jwksOK, "response header X-Extra is not in the API description"},
		{"undocumented member", jwks, 200, headers(cache...), `{"keys":[` + jwk + `],"errors":[],"extra":1}`, "extra"},
		{"missing required header", jwks, 200, headers(), jwksOK, `"Cache-Control" missing`},
		{"header value off the description", jwks, 200, headers("Cache-Control", "no-store"), jwksOK, `"Cache-Control" doesn't match`},
		{"undocumented request header", exchange{method: "GET", target: "/v1/oauth2/jwks", header: http.Header{"X-Custom": {"1"}}}, 200, headers(cache...), jwksOK, "request header X-Custom is not in the API description"},
		{"unknown query parameter accepted", exchange{method: "GET", target: "/v1/oauth2/jwks?x=1", header: http.Header{}}, 200, headers(cache...), jwksOK, `query parameter "x"`},
		{"unknown path, generic 404", exchange{method: "GET", target: "/v1/nope", header: http.Header{}}, 404, headers(), `{"errors":["Not found."]}`, ""},
		{"unknown path, another answer", exchange{method: "GET", target: "/v1/nope", header: http.Header{}}, 200, headers(), `{"errors":[]}`, "NotFound"},
		{"undocumented method, generic 405", exchange{method: "POST", target: "/v1/oauth2/jwks", header: http.Header{}}, 405, headers("Allow", "GET, HEAD"), `{"errors":["Method not allowed."]}`, ""},
		{"405 allowing an undocumented method", exchange{method: "PUT", target: "/v1/api-keys", header: http.Header{}}, 405, headers("Allow", "GET, POST, PATCH"), `{"errors":["Method not allowed."]}`, "Allow header says GET, POST, PATCH"},
		{"405 without Allow", exchange{method: "PUT", target: "/v1/api-keys", header: http.Header{}}, 405, headers(), `{"errors":["Method not allowed."]}`, `"Allow" missing`},
		{"invalid request refused", create(http.Header{"Content-Type": {"application/json"}}, `{"mid":`), 400, headers(), failed, ""},
		{"invalid request accepted", create(bearer, `{"mid":"mid_1","name":"n","type":"public","colour":"red"}`), 201, createdHeaders, created, "calls this request invalid, yet the service accepted it"},
		{"request without the credentials accepted", create(http.Header{"Content-Type": {"application/json"}}, `{"mid":"mid_1","name":"n","type":"public"}`), 201, createdHeaders, created, "calls this request invalid"},
		{"valid request accepted", create(bearer, `{"mid":"mid_1","name":"n","type":"public"}`), 201, createdHeaders, created, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := conform(tt.ex, tt.status, tt.header, []byte(tt.body))
			switch {
			case tt.fault == "" && err != nil:
				t.Fatalf("refused a conforming exchange: %v", err)
			case tt.fault != "" && err == nil:
				t.Fatalf("accepted an exchange that departs from the description (want %q)", tt.fault)
			case tt.fault != "" && !strings.Contains(err.Error(), tt.fault):
				t.Fatalf("error %q, want it to mention %q", err, tt.fault)
			}
		})
	}
}
