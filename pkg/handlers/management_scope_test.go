package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// wantScope403 is the generic forbidden answer.
const wantScope403 = `{"errors":["Insufficient scope for this operation."]}` + "\n"

// narrowPair creates a secret key of m holding only scopes and returns an
// access token for it (paired with m's public key) and its id.
func narrowPair(t *testing.T, h http.Handler, m merchant, tok string, scopes ...string) (string, string) {
	t.Helper()
	r := mustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"narrow","type":"secret","scopes":["`+strings.Join(scopes, `","`)+`"]}`)
	return str(mustExchangeOn(t, h, m.AppKey, str(r, "value")), "accessToken"), str(r, "id")
}

// TestManagementNeedsEveryScopeOfTheTarget is the escalation a review found:
// a stored key holding only api-keys:write rolled the merchant's full-scope
// secret key (and got its new value), or deleted it. Both are refused with
// the generic 403, and the target key, its value and its tokens stay.
func TestManagementNeedsEveryScopeOfTheTarget(t *testing.T) {
	m := newMerchant(t)
	owner := tokenFor(t, m)
	narrow, narrowID := narrowPair(t, app(), m, owner, "api-keys:write")
	before := keyRecord(t, m.SecretKeyID)

	for _, tt := range []struct{ name, method, path, body string }{
		{"roll with a day of grace", "POST", "/v1/api-keys/" + m.SecretKeyID + "/roll", `{"grace_seconds":86400}`},
		{"roll without grace", "POST", "/v1/api-keys/" + m.SecretKeyID + "/roll", ""},
		{"delete", "DELETE", "/v1/api-keys/" + m.SecretKeyID, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, app(), tt.method, tt.path, bearer(narrow), tt.body)
			if r.Status != 403 || r.Raw != wantScope403 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			challenge := r.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, `Bearer error="insufficient_scope", scope="`) || !strings.Contains(challenge, "payments:write") {
				t.Fatalf("WWW-Authenticate %q", challenge)
			}
		})
	}
	after := keyRecord(t, m.SecretKeyID)
	for _, attr := range []string{"digest", "generation", "revoked", "scopes", "last_four", "rolled_at"} {
		if !equalAttr(before[attr], after[attr]) {
			t.Fatalf("the refused requests changed %s: %v -> %v", attr, before[attr], after[attr])
		}
	}
	// The owner's pair and token still work.
	if r := createKeyWith(t, app(), m, owner); r.Status != 201 {
		t.Fatalf("owner after the attempts: %d %s", r.Status, r.Raw)
	}
	tokenFor(t, m)

	// A key may still manage keys no more powerful than its token: itself.
	if r := do(t, app(), "POST", "/v1/api-keys/"+narrowID+"/roll", bearer(narrow), ""); r.Status != 200 {
		t.Fatalf("roll of an equal key: %d %s", r.Status, r.Raw)
	}
}

// TestManagementChecksTheTokenNotTheKey: a token narrowed at the token
// endpoint holds less than its key, and manages only what it holds.
func TestManagementChecksTheTokenNotTheKey(t *testing.T) {
	m := newMerchant(t)
	owner := tokenFor(t, m)
	target := mustCreateKey(t, app(), owner, `{"mid":"`+m.MID+`","name":"t","type":"secret","scopes":["charges:read"]}`)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api-keys:write"}}
	narrowed := str(do(t, app(), "POST", "/v1/oauth2/token", withHeader(formCT, "Authorization", basicAuth(m.AppKey, m.AppSecret)), form.Encode()), "access_token")
	if narrowed == "" {
		t.Fatal("no narrowed token")
	}
	if r := do(t, app(), "DELETE", "/v1/api-keys/"+str(target, "id"), bearer(narrowed), ""); r.Status != 403 || r.Raw != wantScope403 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if revoked, _ := attrBool(keyRecord(t, str(target, "id")), "revoked"); revoked {
		t.Fatal("the refused delete revoked the key")
	}
}

func equalAttr(a, b any) bool {
	ja, _ := jsonMarshal(a)
	jb, _ := jsonMarshal(b)
	return string(ja) == string(jb)
}
