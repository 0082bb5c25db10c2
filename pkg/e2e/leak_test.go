package e2e_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/infra/leakdemo"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/secretscanapi"
)

// github is a stand-in for GitHub: the development key of infra/leakdemo,
// its key document on loopback.
type github struct {
	key *ecdsa.PrivateKey
	url string
}

func newGitHub(t *testing.T) github {
	t.Helper()
	k, err := leakdemo.LoadOrCreateKey(filepath.Join(t.TempDir(), "github.pem"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := leakdemo.Handler(k)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return github{k, srv.URL}
}

// report posts a signed report of tokens to h and returns the labels by
// token.
func (g github) report(t *testing.T, h http.Handler, tokens ...string) map[string]string {
	t.Helper()
	var items []leakdemo.Report
	for _, tok := range tokens {
		items = append(items, leakdemo.Report{Token: tok, Type: "flexfactor_secret", URL: "https://github.com/octo/repo/blob/abc/.env", Source: "commit"})
	}
	body, keyID, sig, err := leakdemo.Sign(g.key, items...)
	if err != nil {
		t.Fatal(err)
	}
	rec := apitest.Serve(h, "POST", "/v1/secret-scanning/github", map[string]string{
		"Content-Type": "application/json", secretscanapi.HeaderKeyID: keyID, secretscanapi.HeaderSignature: sig,
	}, string(body))
	if rec.Code != 200 {
		t.Fatalf("report: %d %s", rec.Code, rec.Body)
	}
	for _, tok := range tokens {
		if strings.Contains(rec.Body.String(), tok) {
			t.Fatal("the answer echoes a reported token")
		}
	}
	var out []struct {
		TokenHash string `json:"token_hash"`
		TokenType string `json:"token_type"`
		Label     string `json:"label"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out) != len(tokens) {
		t.Fatalf("answer %s: %v", rec.Body, err)
	}
	labels := map[string]string{}
	for i, v := range out {
		sum := sha256.Sum256([]byte(tokens[i]))
		if v.TokenHash != hex.EncodeToString(sum[:]) || v.TokenType != "flexfactor_secret" {
			t.Fatalf("entry %d: %+v", i, v)
		}
		labels[tokens[i]] = v.Label
	}
	return labels
}

// leakMerchant is a merchant and its owner's token on the whole stack with
// its clock at clk and GitHub's keys at g's document.
func leakMerchant(t *testing.T) (github, *apitest.Clock, http.Handler, apitest.Merchant, string) {
	t.Helper()
	g, clk := newGitHub(t), apitest.NewClock()
	d := apitest.Deps(clk.Now)
	d.Config.SecretScanningKeysURL = g.url
	h := d.All()
	m := apitest.NewMerchant(t)
	return g, clk, h, m, apitest.TokenOn(t, h, m)
}

// TestLeakedCurrentSecretIsRevoked: a reported current secret is revoked
// as by DELETE (reason leaked): its refresh tokens die at once and its
// access tokens within the status cache's window; the audit trail records
// key.leaked; a repeat report changes nothing.
func TestLeakedCurrentSecretIsRevoked(t *testing.T) {
	g, clk, h, m, owner := leakMerchant(t)
	leaked := apitest.MustCreateKey(t, h, owner, `{"mid":"`+m.MID+`","name":"ci","type":"secret","scopes":["charges:read","api-keys:read"]}`)
	value, id := apitest.Str(leaked, "value"), apitest.Str(leaked, "id")
	pair := apitest.MustExchangeOn(t, h, m.AppKey, value)
	access, rt := apitest.Str(pair, "accessToken"), apitest.Str(pair, "refreshToken")
	if r := apitest.Do(t, h, "GET", "/v1/api-keys/"+id, apitest.Bearer(access), ""); r.Status != 200 { // caches the key's status
		t.Fatalf("%d %s", r.Status, r.Raw)
	}

	if got := g.report(t, h, value); got[value] != "true_positive" {
		t.Fatalf("labels %v", got)
	}
	if r := apitest.RefreshJSONOn(t, h, rt); r.Raw != apitest.WantInvalidRefresh {
		t.Fatalf("refresh after the leak: %d %s", r.Status, r.Raw)
	}
	if r := apitest.ExchangeOn(t, h, m.AppKey, value); r.Raw != apitest.WantInvalidPair {
		t.Fatalf("exchange after the leak: %d %s", r.Status, r.Raw)
	}
	clk.Advance(auth.StatusTTL)
	if r := apitest.Do(t, h, "GET", "/v1/api-keys/"+id, apitest.Bearer(access), ""); r.Status != 401 || r.Raw != apitest.Want401 {
		t.Fatalf("access token after the leak: %d %s", r.Status, r.Raw)
	}
	owner = apitest.TokenOn(t, h, m)
	got := apitest.Do(t, h, "GET", "/v1/api-keys/"+id, apitest.Bearer(owner), "")
	if apitest.Str(got, "status") != "revoked" || apitest.Str(got, "revoked_reason") != "leaked" {
		t.Fatalf("key after the leak: %s", got.Raw)
	}
	events := apitest.Do(t, h, "GET", "/v1/audit-events?action=key.leaked&key_id="+id, apitest.Bearer(owner), "")
	list, _ := events.Body["events"].([]any)
	if len(list) != 1 {
		t.Fatalf("key.leaked events: %s", events.Raw)
	}
	ev := list[0].(map[string]any)
	actor, _ := ev["actor"].(map[string]any)
	details, _ := ev["details"].(map[string]any)
	if actor["type"] != "secret_scanning" || actor["id"] != "github" || details["value"] != "current" || details["source"] != "commit" ||
		details["url"] != "https://github.com/octo/repo/blob/abc/.env" || strings.Contains(events.Raw, value) {
		t.Fatalf("event %v", ev)
	}
	// A repeat report of the revoked value changes nothing and records nothing.
	g.report(t, h, value)
	again := apitest.Do(t, h, "GET", "/v1/audit-events?action=key.leaked&key_id="+id, apitest.Bearer(owner), "")
	if l, _ := again.Body["events"].([]any); len(l) != 1 {
		t.Fatalf("a repeat report recorded again: %s", again.Raw)
	}
}

// TestLeakedPreviousValueEndsItsGrace: the old value of a rolled key loses
// the rest of its grace at once; the key and its new value stay.
func TestLeakedPreviousValueEndsItsGrace(t *testing.T) {
	g, _, h, m, owner := leakMerchant(t)
	k := apitest.MustCreateKey(t, h, owner, `{"mid":"`+m.MID+`","name":"ci","type":"secret","scopes":["charges:read"]}`)
	old, id := apitest.Str(k, "value"), apitest.Str(k, "id")
	fresh := apitest.RollOn(t, h, owner, id, `{"grace_seconds":3600}`)
	rt := apitest.Str(apitest.MustExchangeOn(t, h, m.AppKey, old), "refreshToken") // works in the grace

	if got := g.report(t, h, old); got[old] != "true_positive" {
		t.Fatalf("labels %v", got)
	}
	if r := apitest.ExchangeOn(t, h, m.AppKey, old); r.Raw != apitest.WantInvalidPair {
		t.Fatalf("old value after the report: %d %s", r.Status, r.Raw)
	}
	if r := apitest.RefreshJSONOn(t, h, rt); r.Raw != apitest.WantInvalidRefresh {
		t.Fatalf("old value's family after the report: %d %s", r.Status, r.Raw)
	}
	apitest.MustExchangeOn(t, h, m.AppKey, fresh)
	got := apitest.Do(t, h, "GET", "/v1/api-keys/"+id, apitest.Bearer(owner), "")
	if apitest.Str(got, "status") != "active" {
		t.Fatalf("key after the report: %s", got.Raw)
	}
}

// TestReportOfNoSecretChangesNothing: a public value, another stage's
// value, a checksum-broken value and garbage are labelled and change
// nothing.
func TestReportOfNoSecretChangesNothing(t *testing.T) {
	g, _, h, m, owner := leakMerchant(t)
	before := apitest.KeyListing(t, h, owner, m)
	live, _ := apikey.NewValue(apikey.Secret, apikey.Production)
	broken := m.AppSecret[:len(m.AppSecret)-1] + "x"
	if broken == m.AppSecret {
		broken = m.AppSecret[:len(m.AppSecret)-1] + "y"
	}
	got := g.report(t, h, m.AppKey, live, broken, "not-a-key")
	want := map[string]string{m.AppKey: "true_positive", live: "false_positive", broken: "false_positive", "not-a-key": "false_positive"}
	for tok, label := range want {
		if got[tok] != label {
			t.Fatalf("labels %v, want %v", got, want)
		}
	}
	if after := apitest.KeyListing(t, h, owner, m); after != before {
		t.Fatalf("the keys changed:\n%s\n%s", before, after)
	}
	apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret)
}
