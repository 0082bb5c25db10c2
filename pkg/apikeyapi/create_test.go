package apikeyapi_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// failedCreation is upstream's failed-creation body with the given errors.

func TestCreate201UpstreamExample(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), `{
		"mid": "`+m.MID+`",
		"name": "My API Key",
		"scopes": ["customers:read", "charges:read"],
		"type": "secret"
	}`)
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	id, _ := r.Body["id"].(string)
	if !regexp.MustCompile(`^key_[0-9A-HJKMNP-TV-Z]{26}$`).MatchString(id) {
		t.Fatalf("id %q", id)
	}
	if got := r.Header.Get("Location"); got != "/v1/api-keys/"+id {
		t.Fatalf("Location %q", got)
	}
	if !regexp.MustCompile(`^sk_test_[0-9A-Za-z]{36}$`).MatchString(r.Body["value"].(string)) {
		t.Fatalf("value %q", r.Body["value"])
	}
	if r.Body["type"] != "secret" || r.Body["mid"] != m.MID || r.Body["name"] != "My API Key" || len(apitest.ErrorsOf(r)) != 0 {
		t.Fatalf("body %s", r.Raw)
	}
	if s := r.Body["scopes"].([]any); len(s) != 2 || s[0] != "customers:read" || s[1] != "charges:read" {
		t.Fatalf("scopes %v", s)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(r.Body["created_at"].(string)) {
		t.Fatalf("created_at %q", r.Body["created_at"])
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("a response holding a secret must not be cached")
	}
}

func TestCreate201DefaultsByType(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	tests := []struct {
		typ, prefix string
		scopes      []string
	}{
		{"secret", "sk_test_", m.Scopes},
		{"public", "pk_test_", []string{}},
		{"tokenization", "tk_test_", []string{"tokenize"}},
	}
	for _, tt := range tests {
		r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), `{"mid":"`+m.MID+`","name":"k","type":"`+tt.typ+`"}`)
		if r.Status != 201 || !strings.HasPrefix(r.Body["value"].(string), tt.prefix) {
			t.Fatalf("%s: %d %s", tt.typ, r.Status, r.Raw)
		}
		var got []string
		for _, s := range r.Body["scopes"].([]any) {
			got = append(got, s.(string))
		}
		if !slices.Equal(got, tt.scopes) || r.Body["scopes"] == nil {
			t.Fatalf("%s scopes = %q, want %q", tt.typ, got, tt.scopes)
		}
	}
}

func TestCreateNewPairAuthenticates(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	sec := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), `{"mid":"`+m.MID+`","name":"s","type":"secret","scopes":["api-keys:read"]}`)
	pub := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), `{"mid":"`+m.MID+`","name":"p","type":"public"}`)
	r := apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.JSONCT, `{"AppKey":"`+pub.Body["value"].(string)+`","AppSecret":"`+sec.Body["value"].(string)+`"}`)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	_, claims := apitest.DecodeJWT(t, r.Body["accessToken"].(string))
	if claims["scope"] != "api-keys:read" || claims["sub"] != sec.Body["id"] {
		t.Fatalf("claims %v", claims)
	}
	// The narrower token cannot create keys.
	r = apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(r.Body["accessToken"].(string)), `{"mid":"`+m.MID+`","name":"x","type":"public"}`)
	if r.Status != 403 || !slices.Equal(apitest.ErrorsOf(r), []string{"Insufficient scope for this operation."}) {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer error="insufficient_scope", scope="api-keys:write"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
}

func TestCreate400(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	mid := m.MID
	tests := []struct {
		name, body string
		want       []string
	}{
		{"upstream failed creation", `{"mid":"` + mid + `","name":"My API Key","scopes":["customers:reed"]}`,
			[]string{"Missing required field: type.", "Invalid scope value."}},
		{"missing everything", `{}`,
			[]string{"Missing required field: mid.", "Missing required field: name.", "Missing required field: type."}},
		{"nulls are missing", `{"mid":null,"name":null,"type":null}`,
			[]string{"Missing required field: mid.", "Missing required field: name.", "Missing required field: type."}},
		{"< in name", `{"mid":"` + mid + `","name":"<script>","type":"secret"}`, []string{"Invalid name."}},
		{"> in name", `{"mid":"` + mid + `","name":"a>b","type":"secret"}`, []string{"Invalid name."}},
		{"101 characters", `{"mid":"` + mid + `","name":"` + strings.Repeat("n", 101) + `","type":"secret"}`, []string{"Invalid name."}},
		{"invalid type", `{"mid":"` + mid + `","name":"n","type":"admin"}`, []string{"Invalid type value."}},
		{"invalid scope", `{"mid":"` + mid + `","name":"n","type":"secret","scopes":["charges:read","root"]}`, []string{"Invalid scope value."}},
		{"public with scopes", `{"mid":"` + mid + `","name":"n","type":"public","scopes":["charges:read"]}`, []string{"Invalid scope value."}},
		{"tokenization with charges", `{"mid":"` + mid + `","name":"n","type":"tokenization","scopes":["charges:read"]}`, []string{"Invalid scope value."}},
		{"unknown members and problems", `{"mid":"` + mid + `","name":"n","type":"secret","role":"admin","Scopes":[]}`,
			[]string{"Unknown field: Scopes.", "Unknown field: role."}},
		{"unknown member plus missing type", `{"mid":"` + mid + `","name":"n","extra":1}`,
			[]string{"Unknown field: extra.", "Missing required field: type."}},
		{"wrong JSON types", `{"mid":1,"name":["n"],"type":true,"scopes":"charges:read"}`,
			[]string{"Invalid mid.", "Invalid name.", "Invalid type value.", "Invalid scope value."}},
		{"expiry in the past", `{"mid":"` + mid + `","name":"n","type":"secret","expires_at":"2020-01-01T00:00:00Z"}`, []string{"Invalid expires_at value."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), tt.body)
			if r.Status != 400 || r.Raw != apitest.FailedCreation(tt.want...) {
				t.Fatalf("%d %s\nwant %s", r.Status, r.Raw, apitest.FailedCreation(tt.want...))
			}
		})
	}
	for _, body := range []string{`{"mid":`, `[]`, `null`, `{"mid":"x"}{}`} {
		r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), body)
		if r.Status != 400 || r.Raw != apitest.FailedCreation("Malformed JSON body.") {
			t.Fatalf("%q: %d %s", body, r.Status, r.Raw)
		}
	}
	apitest.AssertKeyCount(t, m, 2) // only the onboarding pair: no 4xx created anything
}

func TestCreate413And415(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	big := `{"mid":"` + m.MID + `","name":"` + strings.Repeat("n", 16<<10) + `","type":"secret"}`
	r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), big)
	if r.Status != 413 || r.Raw != apitest.FailedCreation("Request body too large.") {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", ""} {
		h := apitest.Bearer(tok)
		h["Content-Type"] = ct
		r = apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", h, `{"mid":"`+m.MID+`","name":"n","type":"secret"}`)
		if r.Status != 415 || r.Raw != apitest.FailedCreation("Content-Type must be application/json.") {
			t.Fatalf("%q: %d %s", ct, r.Status, r.Raw)
		}
	}
	apitest.AssertKeyCount(t, m, 2)
}

func TestCreate403(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), `{"mid":"`+other.MID+`","name":"n","type":"secret"}`)
	if r.Status != 403 || r.Raw != `{"errors":["The mid does not match the authenticated merchant."]}`+"\n" {
		t.Fatalf("other merchant: %d %s", r.Status, r.Raw)
	}
	apitest.AssertKeyCount(t, other, 2)

	// A key holding api-keys:write but few other scopes cannot grant more.
	narrow := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), `{"mid":"`+m.MID+`","name":"n","type":"secret","scopes":["api-keys:write","charges:read"]}`)
	tokNarrow := apitest.TokenWith(t, m.AppKey, narrow.Body["value"].(string))
	r = apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tokNarrow), `{"mid":"`+m.MID+`","name":"n","type":"secret","scopes":["charges:read","refunds:write"]}`)
	if r.Status != 403 || r.Raw != `{"errors":["Cannot grant scopes the caller does not hold: refunds:write."]}`+"\n" {
		t.Fatalf("escalation: %d %s", r.Status, r.Raw)
	}
	r = apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tokNarrow), `{"mid":"`+m.MID+`","name":"n","type":"tokenization"}`)
	if r.Status != 403 || r.Raw != `{"errors":["Cannot grant scopes the caller does not hold: tokenize."]}`+"\n" {
		t.Fatalf("tokenize escalation: %d %s", r.Status, r.Raw)
	}
	apitest.AssertKeyCount(t, m, 3)
}

func TestUnknownRoute404(t *testing.T) {
	r := apitest.Do(t, apitest.App(), "GET", "/v1/nothing", nil, "")
	if r.Status != 404 || r.Raw != `{"errors":["Not found."]}`+"\n" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
