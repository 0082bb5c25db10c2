package lambdalocal_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/flexfactor/credplane/infra/lambdalocal"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apikeyapi"
	"github.com/flexfactor/credplane/pkg/dashboard"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/oauthapi"
	"github.com/flexfactor/credplane/pkg/scope"
)

// check is one invocation's answer, decoded, with assertions that read like
// the spec.
type check struct {
	t      *testing.T
	event  eventFile
	values map[string]string // what each placeholder became
	fx     *lambdalocal.Fixtures
	filled []byte
	// sent and answered bracket the invocation.
	sent, answered time.Time

	status int               // API Gateway events only
	header map[string]string // API Gateway events only
	body   map[string]any    // the response body, or a direct invocation's result
	// page is the body of a dashboard file (HTML, CSS, JavaScript), the
	// one kind of answer that is not JSON.
	page []byte
	// secrets are values in this answer that must never be logged.
	secrets []string
}

// decode reads the function's payload: an API Gateway v2 response for an
// API event, whose common headers it checks, or a direct result.
func (c *check) decode(payload []byte) {
	c.t.Helper()
	if c.event.route == "" {
		if err := json.Unmarshal(payload, &c.body); err != nil {
			c.t.Fatalf("result is not a JSON object: %s", payload)
		}
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(payload, &resp); err != nil || resp.StatusCode == 0 {
		c.t.Fatalf("not an API Gateway v2 response: %s", payload)
	}
	c.status, c.header = resp.StatusCode, resp.Headers
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			c.t.Fatal(err)
		}
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(c.filled, &req); err != nil {
		c.t.Fatal(err)
	}
	// The request id is API Gateway's, so logs and gateway access logs join.
	c.headerIs("X-Request-Id", req.RequestContext.RequestID)
	if slices.Contains(dashboard.Routes, c.event.route) && c.status == 200 {
		c.page = body
		return
	}
	if err := json.Unmarshal(body, &c.body); err != nil {
		c.t.Fatalf("status %d: body is not a JSON object: %q", c.status, body)
	}
	c.headerIs("Content-Type", "application/json; charset=utf-8")
}

func (c *check) statusIs(want int) {
	c.t.Helper()
	if c.status != want {
		c.t.Fatalf("status %d, want %d; body %v", c.status, want, c.body)
	}
}

// headerIs compares a response header; names are case-insensitive (Go
// sends "Www-Authenticate" for "WWW-Authenticate").
func (c *check) headerIs(name, want string) {
	c.t.Helper()
	got := ""
	for k, v := range c.header {
		if strings.EqualFold(k, name) {
			got = v
		}
	}
	if got != want {
		c.t.Errorf("header %s = %q, want %q (headers %v)", name, got, want, c.header)
	}
}

// is compares a body member with want, as JSON would decode it.
func (c *check) is(name string, want any) {
	c.t.Helper()
	var norm any
	b, _ := json.Marshal(want)
	_ = json.Unmarshal(b, &norm)
	got, ok := c.body[name]
	if !ok || !reflect.DeepEqual(got, norm) {
		c.t.Errorf("%s = %#v, want %#v", name, got, norm)
	}
}

// str returns a string member, failing when it is not one.
func (c *check) str(name string) string {
	c.t.Helper()
	s, ok := c.body[name].(string)
	if !ok {
		c.t.Fatalf("%s = %#v, want a string", name, c.body[name])
	}
	return s
}

func (c *check) hasPrefix(name, prefix string) string {
	c.t.Helper()
	s := c.str(name)
	if !strings.HasPrefix(s, prefix) {
		c.t.Errorf("%s = %q, want the prefix %q", name, s, prefix)
	}
	return s
}

// errorsAre wants the errors array to hold exactly these messages, in any
// order.
func (c *check) errorsAre(want ...string) {
	c.t.Helper()
	raw, ok := c.body["errors"].([]any)
	if !ok {
		c.t.Fatalf("no errors array in %v", c.body)
	}
	got := make([]string, 0, len(raw))
	for _, e := range raw {
		got = append(got, fmt.Sprint(e))
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		c.t.Errorf("errors = %q, want %q", got, want)
	}
}

// unauthorized is the exact 401 of a protected route (SPEC, RFC 6750).
func (c *check) unauthorized() {
	c.t.Helper()
	c.statusIs(401)
	c.headerIs("WWW-Authenticate", `Bearer error="invalid_token"`)
	c.errorsAre(httpapi.MsgInvalidToken)
}

// tokenIssued checks an upstream-shaped token response for the fixture's pair.
func (c *check) tokenIssued() {
	c.t.Helper()
	c.statusIs(200)
	c.headerIs("Cache-Control", "no-store")
	at := c.str("accessToken")
	if strings.Count(at, ".") != 2 {
		c.t.Errorf("accessToken is not a JWS: %q", at)
	}
	rt := c.hasPrefix("refreshToken", "rt_")
	c.secrets = append(c.secrets, at, rt)
	// Epoch milliseconds, 600 s after the token was issued: some time
	// between sending the event and reading the answer (in whole seconds).
	expires, _ := c.body["expires"].(float64)
	exp := time.UnixMilli(int64(expires))
	if lo, hi := c.sent.Truncate(time.Second).Add(600*time.Second), c.answered.Add(600*time.Second); exp.Before(lo) || exp.After(hi) {
		c.t.Errorf("expires = %v (%v): want epoch milliseconds 600 s after the token was issued, between %v and %v", expires, exp, lo, hi)
	}
	c.is("id", c.fx.Merchant.PublicKeyID)
	c.is("success", true)
	c.errorsAre()
}

// isDashboardFile checks a dashboard file as served: its media type, its
// security headers and the start of its body.
func (c *check) isDashboardFile(contentType, start string) {
	c.t.Helper()
	c.headerIs("Content-Type", contentType)
	for name, want := range dashboard.SecurityHeaders {
		c.headerIs(name, want)
	}
	if !strings.HasPrefix(string(c.page), start) {
		c.t.Errorf("body starts %.40q, want %q", c.page, start)
	}
}

// keyNotFound is SPEC's 404 for a missing or foreign key.
func (c *check) keyNotFound() {
	c.t.Helper()
	c.statusIs(404)
	c.errorsAre("API key not found.")
}

// list returns a list member's items as strings.
func (c *check) list(name string) []string {
	c.t.Helper()
	raw, ok := c.body[name].([]any)
	if !ok {
		c.t.Fatalf("%s = %#v, want a list", name, c.body[name])
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// Value prefixes of the sandbox stage (SPEC "Key values").
const (
	testSecret = "sk_test_"
	testPublic = "pk_test_"
)

// expectations says, per file under events/, what the function must answer,
// as SPEC.md describes it.
var expectations = map[string]func(*check){
	// --- POST /v1/oauth2/token ---
	"token.json":                   func(c *check) { c.tokenIssued() },
	"token-camelcase-members.json": func(c *check) { c.tokenIssued() }, // member names are case-insensitive
	"token-invalid-credentials.json": func(c *check) {
		c.statusIs(400)
		c.is("success", false)
		c.errorsAre(oauthapi.MsgInvalidCredentials)
	},
	"token-refresh.json": func(c *check) { c.tokenIssued() }, // upstream JSON refresh: a new pair
	// RFC 6749 client credentials, narrowed to one scope.
	"token-client-credentials.json": func(c *check) {
		c.statusIs(200)
		c.headerIs("Cache-Control", "no-store")
		c.hasPrefix("access_token", "eyJ")
		c.hasPrefix("refresh_token", "rt_")
		c.is("token_type", "Bearer")
		c.is("expires_in", float64(600))
		c.is("scope", "api-keys:read")
	},
	"token-unsupported-grant.json": func(c *check) {
		c.statusIs(400)
		c.is("error", "unsupported_grant_type")
	},
	"token-malformed-json.json": func(c *check) {
		c.statusIs(400)
		c.is("success", false)
		c.errorsAre(httpapi.MsgMalformedJSON)
	},

	// --- POST /v1/oauth2/revoke (RFC 7009: 200 for unknown tokens too) ---
	"revoke.json":               func(c *check) { c.statusIs(200); c.errorsAre() },
	"revoke-unknown-token.json": func(c *check) { c.statusIs(200); c.errorsAre() },

	// --- GET /v1/oauth2/jwks ---
	"jwks.json": func(c *check) {
		c.statusIs(200)
		keys, _ := c.body["keys"].([]any)
		if len(keys) == 0 {
			c.t.Fatalf("no keys in %v", c.body)
		}
		k, _ := keys[0].(map[string]any)
		for member, want := range map[string]any{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": env.Config.SigningKeyID} {
			if k[member] != want {
				c.t.Errorf("jwk %s = %v, want %v", member, k[member], want)
			}
		}
	},

	// --- GET /v1/openapi.json (served by the token function) ---
	"openapi.json": func(c *check) {
		c.statusIs(200)
		c.headerIs("Cache-Control", "public, max-age=300")
		c.is("openapi", "3.1.0")
		paths, _ := c.body["paths"].(map[string]any)
		for _, p := range []string{"/v1/oauth2/token", "/v1/api-keys", "/v1/openapi.json"} {
			if paths[p] == nil {
				c.t.Errorf("the document has no path %s", p)
			}
		}
		if _, ok := c.body["errors"]; ok {
			c.t.Errorf("the document has an errors member")
		}
	},

	// --- GET /dashboard and its files (served by the token function) ---
	"dashboard.json": func(c *check) {
		c.statusIs(200)
		c.isDashboardFile("text/html; charset=utf-8", "<!doctype html>")
	},
	"dashboard-asset.json": func(c *check) {
		c.statusIs(200)
		c.isDashboardFile("text/javascript; charset=utf-8", "// The dashboard")
	},
	"dashboard-asset-not-found.json": func(c *check) {
		c.statusIs(404)
		c.errorsAre(httpapi.MsgNotFound)
	},

	// --- POST /v1/api-keys ---
	"create.json": func(c *check) {
		c.statusIs(201)
		id := c.hasPrefix("id", "key_")
		c.headerIs("Location", "/v1/api-keys/"+id)
		c.secrets = append(c.secrets, c.hasPrefix("value", testSecret))
		c.is("type", "secret")
		c.is("mid", c.fx.Merchant.MID)
		c.is("name", "My API Key")
		c.is("scopes", []string{"customers:read", "charges:read"})
		if _, err := time.Parse(time.RFC3339, c.str("created_at")); err != nil {
			c.t.Errorf("created_at: %v", err)
		}
		c.errorsAre()
	},
	"create-invalid.json": func(c *check) {
		c.statusIs(400)
		for _, member := range []string{"id", "type", "value", "mid", "name", "created_at"} {
			c.is(member, nil) // upstream's failed-creation shape
		}
		c.errorsAre(apikey.MsgMissingType, apikey.MsgInvalidName, apikey.MsgInvalidScope)
	},
	"create-no-token.json":      func(c *check) { c.unauthorized() },
	"create-invalid-token.json": func(c *check) { c.unauthorized() }, // alg none
	"create-other-merchant.json": func(c *check) {
		c.statusIs(403)
		c.errorsAre(apikeyapi.MsgForeignMerchant)
	},
	"create-unsupported-media-type.json": func(c *check) {
		c.statusIs(415)
		c.errorsAre(httpapi.MsgUnsupportedMedia)
	},
	"create-too-large.json": func(c *check) {
		c.statusIs(413)
		c.errorsAre(httpapi.MsgTooLarge)
	},

	// --- GET /v1/api-keys?mid= ---
	"list.json": func(c *check) {
		c.statusIs(200)
		if keys, _ := c.body["keys"].([]any); len(keys) < 2 {
			c.t.Errorf("want at least the onboarded pair, got %v", c.body["keys"])
		}
		if _, ok := c.body["next_cursor"]; !ok {
			c.t.Errorf("no next_cursor in %v", c.body)
		}
		c.errorsAre()
	},

	// --- GET /v1/api-keys/{id} ---
	"get.json": func(c *check) {
		c.statusIs(200)
		c.is("id", c.values["KEY_ID"])
		c.is("mid", c.fx.Merchant.MID)
		c.is("type", "public")
		c.is("status", "active")
		c.errorsAre()
	},
	"get-not-found.json": func(c *check) { c.keyNotFound() },

	// --- $default: anything no route matches ---
	"unmatched-route.json": func(c *check) {
		c.statusIs(404)
		c.errorsAre(httpapi.MsgNotFound)
	},

	// --- DELETE /v1/api-keys/{id} ---
	"delete.json": func(c *check) {
		c.statusIs(200)
		c.is("status", "SUCCESS")
		c.is("success", true)
		c.is("result", "API key deleted successfully.")
		c.errorsAre()
	},
	"delete-not-found.json": func(c *check) {
		c.keyNotFound()
		c.is("status", "FAILED")
		c.is("success", false)
		c.is("result", nil)
	},

	// --- GET /v1/audit-events ---
	"audit-events.json": func(c *check) {
		c.statusIs(200)
		events, _ := c.body["events"].([]any)
		if len(events) != 1 {
			c.t.Fatalf("want the merchant's one onboarding event, got %v", c.body["events"])
		}
		ev, _ := events[0].(map[string]any)
		if ev["action"] != "merchant.onboarded" || ev["key_id"] == "" {
			c.t.Errorf("event %v", ev)
		}
		c.errorsAre()
	},

	// --- POST /v1/secret-scanning/github ---
	"secret-scanning-unsigned.json": func(c *check) {
		c.statusIs(401)
		c.errorsAre("Invalid signature.")
	},

	// --- POST /v1/api-keys/{id}/roll ---
	"roll.json": func(c *check) {
		c.statusIs(200)
		c.is("id", c.values["KEY_ID"])
		c.hasPrefix("value", testPublic)
		c.errorsAre()
	},
	"roll-invalid-grace.json": func(c *check) {
		c.statusIs(400)
		if len(c.list("errors")) == 0 {
			c.t.Errorf("no errors for grace_seconds over 86400")
		}
	},

	// --- OnboardFunction (direct invocation) ---
	"onboard.json": func(c *check) {
		c.is("success", true)
		c.is("mid", "mid_onboard_demo")
		c.hasPrefix("appKey", testPublic)
		c.secrets = append(c.secrets, c.hasPrefix("appSecret", testSecret))
		c.hasPrefix("publicKeyId", "key_")
		c.hasPrefix("secretKeyId", "key_")
		c.is("scopes", scope.All())
		c.errorsAre()
	},
	"onboard-invalid.json": func(c *check) {
		c.is("success", false)
		c.errorsAre(apikey.MsgInvalidMID)
	},
}
