package apikeyapi_test

import (
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// Bodies of SPEC "DELETE /v1/api-keys/{id}", to the byte.
const (
	wantDeleted   = `{"status":"SUCCESS","success":true,"result":"API key deleted successfully.","errors":[]}` + "\n"
	wantDelete404 = `{"status":"FAILED","success":false,"result":null,"errors":["API key not found."]}` + "\n"
)

// assertPair checks whether a key pair gets a token from h.

func TestLifecycleDelete200StopsTheKeyAtOnce(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	sec := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"leaked","type":"secret","scopes":["charges:read"]}`)
	id, value := apitest.Str(sec, "id"), apitest.Str(sec, "value")
	apitest.AssertPair(t, apitest.App(), m.AppKey, value, true)

	r := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
	if r.Status != 200 || r.Raw != wantDeleted {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	apitest.AssertPair( // The token endpoint refuses it on the very next call: the lookup is gone.
		t, apitest.App(), m.AppKey, value, false)
	if apitest.DigestLookup(t, value) != nil {
		t.Fatal("the digest lookup survived the delete")
	}
	// The record stays for audit, with the attributes the token path reads.
	rec := apitest.KeyRecord(t, id)
	if revoked, ok := apitest.AttrBool(rec, "revoked"); !ok || !revoked {
		t.Fatalf("revoked = %v (present %v)", revoked, ok)
	}
	revokedAt := apitest.AttrS(rec, "revoked_at")
	if _, err := time.Parse(time.RFC3339, revokedAt); err != nil {
		t.Fatalf("revoked_at %q", revokedAt)
	}
	apitest.AssertKeyCount(t, m, 3)
	g := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
	if g.Status != 200 || apitest.Str(g, "status") != "revoked" || apitest.Str(g, "revoked_at") != revokedAt {
		t.Fatalf("get after delete: %d %s", g.Status, g.Raw)
	}
	// Deleting again is the same success and changes nothing.
	r = apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
	if r.Status != 200 || r.Raw != wantDeleted || apitest.AttrS(apitest.KeyRecord(t, id), "revoked_at") != revokedAt {
		t.Fatalf("second delete: %d %s", r.Status, r.Raw)
	}
}

func TestLifecycleDeletePublicKeyBreaksItsPairs(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	if r := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+m.PublicKeyID, apitest.Bearer(tok), ""); r.Status != 200 || r.Raw != wantDeleted {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	apitest.AssertPair(t, apitest.App(), m.AppKey, m.AppSecret, false)
}

func TestLifecycleDelete404ForeignAndMissingAlike(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	for name, id := range map[string]string{
		"other merchant's secret": other.SecretKeyID,
		"other merchant's public": other.PublicKeyID,
		"missing":                 "key_01JD0000000000000000000000",
		"malformed":               "key_1",
		"a mid":                   m.MID,
	} {
		t.Run(name, func(t *testing.T) {
			r := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
			if r.Status != 404 || r.Raw != wantDelete404 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	apitest.AssertPair( // Nothing of the other merchant's changed.
		t, apitest.App(), other.AppKey, other.AppSecret, true)
	if revoked, ok := apitest.AttrBool(apitest.KeyRecord(t, other.SecretKeyID), "revoked"); !ok || revoked {
		t.Fatalf("another merchant's key: revoked = %v (present %v)", revoked, ok)
	}
}

func TestLifecycleDeleteDuringAGracePeriodStopsBothValues(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	sec := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"s","type":"secret","scopes":["charges:read"]}`)
	roll := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys/"+apitest.Str(sec, "id")+"/roll", apitest.Bearer(tok), `{"grace_seconds":3600}`)
	if roll.Status != 200 {
		t.Fatalf("roll: %d %s", roll.Status, roll.Raw)
	}
	apitest.AssertPair(t, apitest.App(), m.AppKey, apitest.Str(sec, "value"), true)
	apitest.AssertPair(t, apitest.App(), m.AppKey, apitest.Str(roll, "value"), true)
	if r := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+apitest.Str(sec, "id"), apitest.Bearer(tok), ""); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	apitest.AssertPair(t, apitest.App(), m.AppKey, apitest.Str(sec, "value"), false)
	apitest.AssertPair(t, apitest.App(), m.AppKey, apitest.Str(roll, "value"), false)
	if apitest.DigestLookup(t, apitest.Str(sec, "value")) != nil || apitest.DigestLookup(t, apitest.Str(roll, "value")) != nil {
		t.Fatal("a digest lookup survived the delete")
	}
}

func TestLifecycleDeleteWarnsWhenTheLastKeyManagerGoes(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	second := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"admin 2","type":"secret","scopes":["api-keys:write"]}`)
	apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"reader","type":"secret","scopes":["api-keys:read","charges:read"]}`)
	// Another manager remains: the plain SPEC body.
	r := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+apitest.Str(second, "id"), apitest.Bearer(tok), "")
	if r.Status != 200 || r.Raw != wantDeleted {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	// The onboarding secret is now the last one: allowed, with a warning.
	// (Its own token makes this call, and it is the last call it makes.)
	r = apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+m.SecretKeyID, apitest.Bearer(tok), "")
	want := `{"status":"SUCCESS","success":true,"result":"API key deleted successfully.","errors":[],` +
		`"warnings":["This was the merchant's last active secret key holding api-keys:write; no remaining key can manage API keys."]}` + "\n"
	if r.Status != 200 || r.Raw != want {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
