package handlers_test

import (
	"regexp"
	"slices"
	"testing"
)

// metadataMembers are exactly the members a key shows outside its creation.
var metadataMembers = []string{"created_at", "expires_at", "id", "last_four", "last_used", "mid", "name", "scopes", "status", "type"}

func TestLifecycleGet200(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	tests := []struct {
		typ       string
		showValue bool
	}{{"secret", false}, {"public", true}, {"tokenization", true}}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			c := mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"Till 3","type":"`+tt.typ+`","expires_at":"2030-01-02T03:04:05Z"}`)
			id, value := str(c, "id"), str(c, "value")
			r := do(t, app(), "GET", "/v1/api-keys/"+id, bearer(tok), "")
			if r.Status != 200 || len(errorsOf(r)) != 0 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			want := append(slices.Clone(metadataMembers), "errors")
			if tt.showValue {
				want = append(want, "value")
			}
			slices.Sort(want)
			if got := members(r.Body); !slices.Equal(got, want) {
				t.Fatalf("members %v, want %v", got, want)
			}
			if str(r, "id") != id || str(r, "mid") != m.MID || str(r, "name") != "Till 3" || str(r, "type") != tt.typ ||
				str(r, "status") != "active" || str(r, "created_at") != str(c, "created_at") ||
				str(r, "expires_at") != "2030-01-02T03:04:05Z" || r.Body["last_used"] != nil || str(r, "last_four") != value[len(value)-4:] {
				t.Fatalf("body %s", r.Raw)
			}
			if tt.showValue && str(r, "value") != value {
				t.Fatalf("value %q, want the created %q", str(r, "value"), value)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("Cache-Control")
			}
		})
	}
}

func TestLifecycleGetShowsLastUsed(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m) // uses both keys of the pair
	r := do(t, app(), "GET", "/v1/api-keys/"+m.SecretKeyID, bearer(tok), "")
	if r.Status != 200 || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(str(r, "last_used")) {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if r.Body["expires_at"] != nil || str(r, "status") != "active" {
		t.Fatalf("body %s", r.Raw)
	}
}

const want404 = `{"errors":["API key not found."]}` + "\n"

func TestLifecycleGet404ForeignAndMissingAlike(t *testing.T) {
	m := newMerchant(t)
	other := newMerchant(t)
	tok := tokenFor(t, m)
	for name, id := range map[string]string{
		"other merchant's secret": other.SecretKeyID,
		"other merchant's public": other.PublicKeyID,
		"missing":                 "key_01JD0000000000000000000000",
		"not a ULID":              "key_nope",
		"lower case ULID":         "key_" + "01jd0000000000000000000000",
	} {
		t.Run(name, func(t *testing.T) {
			r := do(t, app(), "GET", "/v1/api-keys/"+id, bearer(tok), "")
			if r.Status != 404 || r.Raw != want404 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestLifecycle403WithoutTheRouteScope(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	w := mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"writer","type":"secret","scopes":["api-keys:write"]}`)
	rd := mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"reader","type":"secret","scopes":["api-keys:read"]}`)
	writeOnly := tokenWith(t, m.AppKey, str(w, "value"))
	readOnly := tokenWith(t, m.AppKey, str(rd, "value"))
	tests := []struct{ tok, method, path, need string }{
		{writeOnly, "GET", "/v1/api-keys/" + m.SecretKeyID, "api-keys:read"},
		{writeOnly, "GET", "/v1/api-keys?mid=" + m.MID, "api-keys:read"},
		{writeOnly, "GET", "/v1/api-keys/" + m.MID, "api-keys:read"},
		{readOnly, "DELETE", "/v1/api-keys/" + m.PublicKeyID, "api-keys:write"},
		{readOnly, "POST", "/v1/api-keys/" + m.PublicKeyID + "/roll", "api-keys:write"},
	}
	for _, tt := range tests {
		r := do(t, app(), tt.method, tt.path, bearer(tt.tok), "")
		if r.Status != 403 || r.Raw != `{"errors":["Insufficient scope for this operation."]}`+"\n" {
			t.Fatalf("%s %s: %d %s", tt.method, tt.path, r.Status, r.Raw)
		}
		if got := r.Header.Get("WWW-Authenticate"); got != `Bearer error="insufficient_scope", scope="`+tt.need+`"` {
			t.Fatalf("%s %s: WWW-Authenticate %q", tt.method, tt.path, got)
		}
	}
	assertPair(t, app(), m.AppKey, m.AppSecret, true) // nothing was deleted or rolled
}

func TestLifecycle401And405(t *testing.T) {
	m := newMerchant(t)
	for _, rt := range []struct{ method, path string }{
		{"GET", "/v1/api-keys"}, {"GET", "/v1/api-keys/" + m.SecretKeyID}, {"DELETE", "/v1/api-keys/" + m.SecretKeyID}, {"POST", "/v1/api-keys/" + m.SecretKeyID + "/roll"},
	} {
		r := do(t, app(), rt.method, rt.path, map[string]string{"Authorization": "Bearer nope"}, "")
		if r.Status != 401 || r.Raw != want401 || r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Fatalf("%s %s: %d %s", rt.method, rt.path, r.Status, r.Raw)
		}
	}
	for _, rt := range []struct{ method, path, allow string }{
		{"PUT", "/v1/api-keys", "GET, POST"},
		{"PATCH", "/v1/api-keys/" + m.SecretKeyID, "GET, DELETE"},
		{"GET", "/v1/api-keys/" + m.SecretKeyID + "/roll", "POST"},
	} {
		r := do(t, app(), rt.method, rt.path, nil, "")
		if r.Status != 405 || r.Raw != `{"errors":["Method not allowed."]}`+"\n" || r.Header.Get("Allow") != rt.allow {
			t.Fatalf("%s %s: %d %s Allow %q", rt.method, rt.path, r.Status, r.Raw, r.Header.Get("Allow"))
		}
	}
}
