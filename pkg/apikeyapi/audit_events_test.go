package apikeyapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flexfactor/credplane/pkg/apitest"
)

// trail reads the merchant's whole trail (newest first) with tok.
func trail(t *testing.T, tok, query string) []map[string]any {
	t.Helper()
	r := apitest.Do(t, apitest.App(), "GET", "/v1/audit-events?limit=100"+query, apitest.Bearer(tok), "")
	if r.Status != 200 {
		t.Fatalf("audit events: %d %s", r.Status, r.Raw)
	}
	var out []map[string]any
	for _, e := range r.Body["events"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

func actionsOf(events []map[string]any) []string {
	var out []string
	for _, e := range events {
		out = append(out, e["action"].(string))
	}
	return out
}

// TestEveryChangeRecordsOneAuditEvent: each change through the API records
// exactly one event, with who, what, when, from where and which key; a
// refused request, an idempotent replay and a repeated delete record
// nothing.
func TestEveryChangeRecordsOneAuditEvent(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	headers := apitest.WithHeader(apitest.WithIdempotencyKey(tok, apitest.NewIdempotencyKey()), "User-Agent", "audit-test/1.0")
	body := `{"mid":"` + m.MID + `","name":"ci","type":"secret","scopes":["charges:read"]}`
	created := apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", headers, body)
	apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", headers, body) // replay
	apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), `{"mid":"`+m.MID+`","type":"nope"}`)
	id := apitest.Str(created, "id")
	apitest.RollOn(t, apitest.App(), tok, id, `{"grace_seconds":60}`)
	deleted := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+id, apitest.Bearer(tok), "")
	apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+id, apitest.Bearer(tok), "") // repeat

	// Refresh revocation (RFC 7009) and reuse detection.
	owner := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret))
	apitest.Revoke(t, owner, url.Values{"token": {apitest.RefreshFor(t, m)}})
	rt := apitest.RefreshFor(t, m)
	apitest.RefreshJSON(t, rt)
	apitest.RefreshJSON(t, rt) // reuse

	events := trail(t, tok, "")
	want := []string{"refresh.reuse_detected", "refresh.revoked", "key.deleted", "key.rolled", "key.created", "merchant.onboarded"}
	if got := actionsOf(events); !slices.Equal(got, want) {
		t.Fatalf("trail %v, want %v", got, want)
	}
	byAction := map[string]map[string]any{}
	for _, e := range events {
		byAction[e["action"].(string)] = e
		if e["mid"] != m.MID || !strings.HasPrefix(e["id"].(string), "evt_") || e["occurred_at"] == "" {
			t.Fatalf("event %v", e)
		}
	}
	c := byAction["key.created"]
	actor := c["actor"].(map[string]any)
	details := c["details"].(map[string]any)
	if c["key_id"] != id || actor["type"] != "api_key" || actor["id"] != m.SecretKeyID || c["request_id"] != created.Header.Get("X-Request-Id") ||
		c["user_agent"] != "audit-test/1.0" || c["source_ip"] == "" || details["type"] != "secret" || details["name"] != "ci" {
		t.Fatalf("key.created %v", c)
	}
	if d := byAction["key.deleted"]; d["request_id"] != deleted.Header.Get("X-Request-Id") || d["key_id"] != id {
		t.Fatalf("key.deleted %v", d)
	}
	if o := byAction["merchant.onboarded"]; o["key_id"] != m.SecretKeyID || o["actor"].(map[string]any)["type"] != "operator" {
		t.Fatalf("merchant.onboarded %v", o)
	}
	if r := byAction["refresh.reuse_detected"]; r["actor"].(map[string]any)["type"] != "system" || r["key_id"] != m.SecretKeyID {
		t.Fatalf("refresh.reuse_detected %v", r)
	}
	if r := byAction["refresh.revoked"]; r["actor"].(map[string]any)["id"] != m.SecretKeyID {
		t.Fatalf("refresh.revoked %v", r)
	}
}

// TestAuditTrailListing: filters, paging with an authenticated cursor, and
// every refusal of the listing.
func TestAuditTrailListing(t *testing.T) {
	m, other := apitest.NewMerchant(t), apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	var ids []string
	for range 3 {
		ids = append(ids, apitest.Str(apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"k","type":"public"}`), "id"))
	}
	if got := actionsOf(trail(t, tok, "&action=key.created")); len(got) != 3 {
		t.Fatalf("by action: %v", got)
	}
	if got := trail(t, tok, "&key_id="+ids[1]); len(got) != 1 || got[0]["key_id"] != ids[1] {
		t.Fatalf("by key: %v", got)
	}
	if got := trail(t, tok, "&mid="+m.MID+"&action=merchant.onboarded"); len(got) != 1 {
		t.Fatalf("explicit mid: %v", got)
	}

	// Paging: 4 events, 2 per page, newest first, no gap, no duplicate.
	var seen []string
	path := "/v1/audit-events?limit=2"
	for pages := 0; path != ""; pages++ {
		r := apitest.Do(t, apitest.App(), "GET", path, apitest.Bearer(tok), "")
		for _, e := range r.Body["events"].([]any) {
			seen = append(seen, e.(map[string]any)["id"].(string))
		}
		path = ""
		if c, ok := r.Body["next_cursor"].(string); ok {
			path = "/v1/audit-events?limit=2&cursor=" + url.QueryEscape(c)
		}
		if pages > 3 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 4 || !slices.IsSortedFunc(seen, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Fatalf("paged ids %v", seen)
	}

	first := apitest.Do(t, apitest.App(), "GET", "/v1/audit-events?limit=1", apitest.Bearer(tok), "")
	cursor := apitest.Str(first, "next_cursor")
	tampered := []byte(cursor)
	tampered[len(tampered)/2] ^= 1
	for _, tt := range []struct{ name, query, want string }{
		{"tampered cursor", "cursor=" + url.QueryEscape(string(tampered)), "Invalid cursor."},
		{"cursor of another filter", "action=key.created&cursor=" + url.QueryEscape(cursor), "Invalid cursor."},
		{"limit 0", "limit=0", "Invalid limit value."},
		{"limit 101", "limit=101", "Invalid limit value."},
		{"unknown action", "action=key.exploded", "Invalid action value."},
		{"malformed key_id", "key_id=nope", "Invalid key_id value."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.Do(t, apitest.App(), "GET", "/v1/audit-events?"+tt.query, apitest.Bearer(tok), "")
			if r.Status != 400 || r.Raw != `{"errors":["`+tt.want+`"]}`+"\n" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	r := apitest.Do(t, apitest.App(), "GET", "/v1/audit-events?mid="+other.MID, apitest.Bearer(tok), "")
	if r.Status != 403 || r.Raw != `{"errors":["The mid does not match the authenticated merchant."]}`+"\n" {
		t.Fatalf("another merchant's trail: %d %s", r.Status, r.Raw)
	}
	narrow, _ := apitest.NarrowPair(t, apitest.App(), m, tok, "api-keys:write")
	if r := apitest.Do(t, apitest.App(), "GET", "/v1/audit-events", apitest.Bearer(narrow), ""); r.Status != 403 || r.Raw != apitest.WantScope403 ||
		r.Header.Get("WWW-Authenticate") != `Bearer error="insufficient_scope", scope="api-keys:read"` {
		t.Fatalf("without api-keys:read: %d %s", r.Status, r.Raw)
	}
}

// TestAuditItemsHoldNoSecret scans the stored events, not only the
// answers: no key value, token, refresh token or digest.
func TestAuditItemsHoldNoSecret(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	k := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"s","type":"secret","scopes":["charges:read"]}`)
	rolled := apitest.RollOn(t, apitest.App(), tok, apitest.Str(k, "id"), "")
	rt := apitest.RefreshFor(t, m)
	apitest.Revoke(t, apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(m.AppKey, m.AppSecret)), url.Values{"token": {rt}})
	out, err := apitest.Env().Clients.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(apitest.Env().Config.AuditTableName)})
	if err != nil {
		t.Fatal(err)
	}
	var stored strings.Builder
	for _, item := range out.Items {
		for name, v := range item {
			stored.WriteString(name + "=" + apitest.JSON(v) + "\n")
		}
	}
	if !strings.Contains(stored.String(), m.MID) {
		t.Fatal("the scan did not see this merchant's events")
	}
	for name, secret := range map[string]string{"AppSecret": m.AppSecret, "AppKey": m.AppKey, "created value": apitest.Str(k, "value"),
		"rolled value": rolled, "access token": tok, "refresh token": rt} {
		d := sha256.Sum256([]byte(secret))
		for _, form := range []string{secret, secret[len(secret)/2:], hex.EncodeToString(d[:])} {
			if strings.Contains(stored.String(), form) {
				t.Fatalf("a stored audit event holds the %s (or its digest)", name)
			}
		}
	}
}
