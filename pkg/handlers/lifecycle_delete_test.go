package handlers_test

import (
	"net/http"
	"testing"
	"time"
)

// Bodies of SPEC "DELETE /v1/api-keys/{id}", to the byte.
const (
	wantDeleted   = `{"status":"SUCCESS","success":true,"result":"API key deleted successfully.","errors":[]}` + "\n"
	wantDelete404 = `{"status":"FAILED","success":false,"result":null,"errors":["API key not found."]}` + "\n"
	wantBadPair   = `{"success":false,"errors":["Invalid AppKey or AppSecret."]}` + "\n"
)

// assertPair checks whether a key pair gets a token from h.
func assertPair(t *testing.T, h http.Handler, appKey, appSecret string, works bool) {
	t.Helper()
	r := exchangeOn(t, h, appKey, appSecret)
	switch {
	case works && r.Status != 200:
		t.Fatalf("pair refused: %d %s", r.Status, r.Raw)
	case !works && (r.Status != 400 || r.Raw != wantBadPair):
		t.Fatalf("pair accepted: %d %s", r.Status, r.Raw)
	}
}

func TestLifecycleDelete200StopsTheKeyAtOnce(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	sec := mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"leaked","type":"secret","scopes":["charges:read"]}`)
	id, value := str(sec, "id"), str(sec, "value")
	assertPair(t, app(), m.AppKey, value, true)

	r := do(t, app(), "DELETE", "/v1/api-keys/"+id, bearer(tok), "")
	if r.Status != 200 || r.Raw != wantDeleted {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	// The token endpoint refuses it on the very next call: the lookup is gone.
	assertPair(t, app(), m.AppKey, value, false)
	if digestLookup(t, value) != nil {
		t.Fatal("the digest lookup survived the delete")
	}
	// The record stays for audit, with the attributes the token path reads.
	rec := keyRecord(t, id)
	if revoked, ok := attrBool(rec, "revoked"); !ok || !revoked {
		t.Fatalf("revoked = %v (present %v)", revoked, ok)
	}
	revokedAt := attrS(rec, "revoked_at")
	if _, err := time.Parse(time.RFC3339, revokedAt); err != nil {
		t.Fatalf("revoked_at %q", revokedAt)
	}
	assertKeyCount(t, m, 3)
	g := do(t, app(), "GET", "/v1/api-keys/"+id, bearer(tok), "")
	if g.Status != 200 || str(g, "status") != "revoked" || str(g, "revoked_at") != revokedAt {
		t.Fatalf("get after delete: %d %s", g.Status, g.Raw)
	}
	// Deleting again is the same success and changes nothing.
	r = do(t, app(), "DELETE", "/v1/api-keys/"+id, bearer(tok), "")
	if r.Status != 200 || r.Raw != wantDeleted || attrS(keyRecord(t, id), "revoked_at") != revokedAt {
		t.Fatalf("second delete: %d %s", r.Status, r.Raw)
	}
}

func TestLifecycleDeletePublicKeyBreaksItsPairs(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	if r := do(t, app(), "DELETE", "/v1/api-keys/"+m.PublicKeyID, bearer(tok), ""); r.Status != 200 || r.Raw != wantDeleted {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	assertPair(t, app(), m.AppKey, m.AppSecret, false)
}

func TestLifecycleDelete404ForeignAndMissingAlike(t *testing.T) {
	m := newMerchant(t)
	other := newMerchant(t)
	tok := tokenFor(t, m)
	for name, id := range map[string]string{
		"other merchant's secret": other.SecretKeyID,
		"other merchant's public": other.PublicKeyID,
		"missing":                 "key_01JD0000000000000000000000",
		"malformed":               "key_1",
		"a mid":                   m.MID,
	} {
		t.Run(name, func(t *testing.T) {
			r := do(t, app(), "DELETE", "/v1/api-keys/"+id, bearer(tok), "")
			if r.Status != 404 || r.Raw != wantDelete404 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	// Nothing of the other merchant's changed.
	assertPair(t, app(), other.AppKey, other.AppSecret, true)
	if revoked, ok := attrBool(keyRecord(t, other.SecretKeyID), "revoked"); !ok || revoked {
		t.Fatalf("another merchant's key: revoked = %v (present %v)", revoked, ok)
	}
}

func TestLifecycleDeleteDuringAGracePeriodStopsBothValues(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	sec := mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"s","type":"secret","scopes":["charges:read"]}`)
	roll := do(t, app(), "POST", "/v1/api-keys/"+str(sec, "id")+"/roll", bearer(tok), `{"grace_seconds":3600}`)
	if roll.Status != 200 {
		t.Fatalf("roll: %d %s", roll.Status, roll.Raw)
	}
	assertPair(t, app(), m.AppKey, str(sec, "value"), true)
	assertPair(t, app(), m.AppKey, str(roll, "value"), true)
	if r := do(t, app(), "DELETE", "/v1/api-keys/"+str(sec, "id"), bearer(tok), ""); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	assertPair(t, app(), m.AppKey, str(sec, "value"), false)
	assertPair(t, app(), m.AppKey, str(roll, "value"), false)
	if digestLookup(t, str(sec, "value")) != nil || digestLookup(t, str(roll, "value")) != nil {
		t.Fatal("a digest lookup survived the delete")
	}
}

func TestLifecycleDeleteWarnsWhenTheLastKeyManagerGoes(t *testing.T) {
	m := newMerchant(t)
	tok := tokenFor(t, m)
	second := mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"admin 2","type":"secret","scopes":["api-keys:write"]}`)
	mustCreateKey(t, app(), tok, `{"mid":"`+m.MID+`","name":"reader","type":"secret","scopes":["api-keys:read","charges:read"]}`)
	// Another manager remains: the plain SPEC body.
	r := do(t, app(), "DELETE", "/v1/api-keys/"+str(second, "id"), bearer(tok), "")
	if r.Status != 200 || r.Raw != wantDeleted {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	// The onboarding secret is now the last one: allowed, with a warning.
	// (Its own token makes this call, and it is the last call it makes.)
	r = do(t, app(), "DELETE", "/v1/api-keys/"+m.SecretKeyID, bearer(tok), "")
	want := `{"status":"SUCCESS","success":true,"result":"API key deleted successfully.","errors":[],` +
		`"warnings":["This was the merchant's last active secret key holding api-keys:write; no remaining key can manage API keys."]}` + "\n"
	if r.Status != 200 || r.Raw != want {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
