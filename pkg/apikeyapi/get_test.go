package apikeyapi_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// metadataMembers are exactly the members a key shows outside its creation.
var metadataMembers = []string{"created_at", "expires_at", "id", "last_four", "last_used", "mid", "name", "scopes", "status", "type"}

func TestLifecycleGet200(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	tests := []struct {
		typ       string
		showValue bool
	}{{"secret", false}, {"public", true}, {"tokenization", true}}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			c := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"Till 3","type":"`+tt.typ+`","expires_at":"2030-01-02T03:04:05Z"}`)
			id, value := apitest.Str(c, "id"), apitest.Str(c, "value")
			r := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
			if r.Status != 200 || len(apitest.ErrorsOf(r)) != 0 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			want := append(slices.Clone(metadataMembers), "errors")
			if tt.showValue {
				want = append(want, "value")
			}
			slices.Sort(want)
			if got := apitest.Members(r.Body); !slices.Equal(got, want) {
				t.Fatalf("members %v, want %v", got, want)
			}
			if apitest.Str(r, "id") != id || apitest.Str(r, "mid") != m.MID || apitest.Str(r, "name") != "Till 3" || apitest.Str(r, "type") != tt.typ || apitest.Str(r, "status") != "active" || apitest.Str(r, "created_at") != apitest.Str(c, "created_at") || apitest.Str(r, "expires_at") != "2030-01-02T03:04:05Z" || r.Body["last_used"] != nil || apitest.Str(r, "last_four") != value[len(value)-4:] {
				t.Fatalf("body %s", r.Raw)
			}
			if tt.showValue && apitest.Str(r, "value") != value {
				t.Fatalf("value %q, want the created %q", apitest.Str(r, "value"), value)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("Cache-Control")
			}
		})
	}
}

func TestLifecycleGetShowsLastUsed(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m) // uses both keys of the pair
	r := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys/"+m.SecretKeyID, apitest.Bearer(tok), "")
	if r.Status != 200 || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(apitest.Str(r, "last_used")) {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if r.Body["expires_at"] != nil || apitest.Str(r, "status") != "active" {
		t.Fatalf("body %s", r.Raw)
	}
}

func TestLifecycleGet404ForeignAndMissingAlike(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	for name, id := range map[string]string{
		"other merchant's secret": other.SecretKeyID,
		"other merchant's public": other.PublicKeyID,
		"missing":                 "key_01JD0000000000000000000000",
		"not a ULID":              "key_nope",
		"lower case ULID":         "key_" + "01jd0000000000000000000000",
	} {
		t.Run(name, func(t *testing.T) {
			r := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
			if r.Status != 404 || r.Raw != apitest.Want404 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestLifecycle403WithoutTheRouteScope(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	w := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"writer","type":"secret","scopes":["api-keys:write"]}`)
	rd := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"reader","type":"secret","scopes":["api-keys:read"]}`)
	writeOnly := apitest.TokenWith(t, m.AppKey, apitest.Str(w, "value"))
	readOnly := apitest.TokenWith(t, m.AppKey, apitest.Str(rd, "value"))
	tests := []struct{ tok, method, path, need string }{
		{writeOnly, "GET", "/v1/api-keys/" + m.SecretKeyID, "api-keys:read"},
		{writeOnly, "GET", "/v1/api-keys?mid=" + m.MID, "api-keys:read"},
		{writeOnly, "GET", "/v1/api-keys/" + m.MID, "api-keys:read"},
		{readOnly, "DELETE", "/v1/api-keys/" + m.PublicKeyID, "api-keys:write"},
		{readOnly, "POST", "/v1/api-keys/" + m.PublicKeyID + "/roll", "api-keys:write"},
	}
	for _, tt := range tests {
		r := apitest.Do(t, apitest.App(), tt.method, tt.path, apitest.Bearer(tt.tok), "")
		if r.Status != 403 || r.Raw != `{"errors":["Insufficient scope for this operation."]}`+"\n" {
			t.Fatalf("%s %s: %d %s", tt.method, tt.path, r.Status, r.Raw)
		}
		if got := r.Header.Get("WWW-Authenticate"); got != `Bearer error="insufficient_scope", scope="`+tt.need+`"` {
			t.Fatalf("%s %s: WWW-Authenticate %q", tt.method, tt.path, got)
		}
	}
	apitest.AssertPair(t, apitest.App(), m.AppKey, m.AppSecret, true) // nothing was deleted or rolled
}

func TestLifecycle401And405(t *testing.T) {
	m := apitest.NewMerchant(t)
	for _, rt := range []struct{ method, path string }{
		{"GET", "/v1/api-keys"}, {"GET", "/v1/api-keys/" + m.SecretKeyID}, {"DELETE", "/v1/api-keys/" + m.SecretKeyID}, {"POST", "/v1/api-keys/" + m.SecretKeyID + "/roll"},
	} {
		r := apitest.Do(t, apitest.App(), rt.method, rt.path, map[string]string{"Authorization": "Bearer nope"}, "")
		if r.Status != 401 || r.Raw != apitest.Want401 || r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Fatalf("%s %s: %d %s", rt.method, rt.path, r.Status, r.Raw)
		}
	}
	for _, rt := range []struct{ method, path, allow string }{
		{"PUT", "/v1/api-keys", "GET, POST"},
		{"PATCH", "/v1/api-keys/" + m.SecretKeyID, "GET, DELETE"},
		{"GET", "/v1/api-keys/" + m.SecretKeyID + "/roll", "POST"},
	} {
		r := apitest.Do(t, apitest.App(), rt.method, rt.path, nil, "")
		if r.Status != 405 || r.Raw != `{"errors":["Method not allowed."]}`+"\n" || r.Header.Get("Allow") != rt.allow {
			t.Fatalf("%s %s: %d %s Allow %q", rt.method, rt.path, r.Status, r.Raw, r.Header.Get("Allow"))
		}
	}
}
