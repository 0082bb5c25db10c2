package apikeyapi_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// wantScope403 is the generic forbidden answer.

// narrowPair creates a secret key of m holding only scopes and returns an
// access token for it (paired with m's public key) and its id.

// TestManagementNeedsEveryScopeOfTheTarget is the escalation a review found:
// a stored key holding only api-keys:write rolled the merchant's full-scope
// secret key (and got its new value), or deleted it. Both are refused with
// the generic 403, and the target key, its value and its tokens stay.
func TestManagementNeedsEveryScopeOfTheTarget(t *testing.T) {
	m := apitest.NewMerchant(t)
	owner := apitest.TokenFor(t, m)
	narrow, narrowID := apitest.NarrowPair(t, apitest.App(), m, owner, "api-keys:write")
	before := apitest.KeyRecord(t, m.SecretKeyID)

	for _, tt := range []struct{ name, method, path, body string }{
		{"roll with a day of grace", "POST", "/v1/api-keys/" + m.SecretKeyID + "/roll", `{"grace_seconds":86400}`},
		{"roll without grace", "POST", "/v1/api-keys/" + m.SecretKeyID + "/roll", ""},
		{"delete", "DELETE", "/v1/api-keys/" + m.SecretKeyID, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.Do(t, apitest.App(), tt.method, tt.path, apitest.Bearer(narrow), tt.body)
			if r.Status != 403 || r.Raw != apitest.WantScope403 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			challenge := r.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, `Bearer error="insufficient_scope", scope="`) || !strings.Contains(challenge, "payments:write") {
				t.Fatalf("WWW-Authenticate %q", challenge)
			}
		})
	}
	after := apitest.KeyRecord(t, m.SecretKeyID)
	for _, attr := range []string{"digest", "generation", "revoked", "scopes", "last_four", "rolled_at"} {
		if !equalAttr(before[attr], after[attr]) {
			t.Fatalf("the refused requests changed %s: %v -> %v", attr, before[attr], after[attr])
		}
	}
	// The owner's pair and token still work.
	if r := apitest.CreateKeyWith(t, apitest.App(), m, owner); r.Status != 201 {
		t.Fatalf("owner after the attempts: %d %s", r.Status, r.Raw)
	}
	apitest.TokenFor(t, m)

	// A key may still manage keys no more powerful than its token: itself.
	if r := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys/"+narrowID+"/roll", apitest.Bearer(narrow), ""); r.Status != 200 {
		t.Fatalf("roll of an equal key: %d %s", r.Status, r.Raw)
	}
}

// TestManagementChecksTheTokenNotTheKey: a token narrowed at the token
// endpoint holds less than its key, and manages only what it holds.
func TestManagementChecksTheTokenNotTheKey(t *testing.T) {
	m := apitest.NewMerchant(t)
	owner := apitest.TokenFor(t, m)
	target := apitest.MustCreateKey(t, apitest.App(), owner, `{"mid":"`+m.MID+`","name":"t","type":"secret","scopes":["charges:read"]}`)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api-keys:write"}}
	narrowed := apitest.Str(apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret)), form.Encode()), "access_token")
	if narrowed == "" {
		t.Fatal("no narrowed token")
	}
	if r := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+apitest.Str(target, "id"), apitest.Bearer(narrowed), ""); r.Status != 403 || r.Raw != apitest.WantScope403 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if revoked, _ := apitest.AttrBool(apitest.KeyRecord(t, apitest.Str(target, "id")), "revoked"); revoked {
		t.Fatal("the refused delete revoked the key")
	}
}

func equalAttr(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
