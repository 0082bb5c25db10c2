package handlers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const wantInvalidRefresh = `{"success":false,"errors":["Invalid refresh token."]}` + "\n"

// refreshJSON presents a refresh token in upstream's JSON shape.
func refreshJSON(t *testing.T, rt string) response {
	t.Helper()
	return do(t, app(), "POST", "/v1/oauth2/token", jsonCT, `{"RefreshToken":"`+rt+`"}`)
}

// refreshForm presents a refresh token as RFC 6749 §6.
func refreshForm(t *testing.T, header map[string]string, rt string, extra url.Values) response {
	t.Helper()
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, e := range extra {
		v[k] = e
	}
	return do(t, app(), "POST", "/v1/oauth2/token", header, v.Encode())
}

// refreshItem reads a refresh token's record straight from the table.
func refreshItem(t *testing.T, rt string) map[string]types.AttributeValue {
	t.Helper()
	d := sha256.Sum256([]byte(rt))
	out, err := env.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(env.Config.TableName),
		Key:            tableKey("REFRESH#"+hex.EncodeToString(d[:]), "REFRESH"),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func TestOAuthRefreshRotatesUpstreamJSON(t *testing.T) {
	m := newMerchant(t)
	first := exchange(t, m)
	rt := first.Body["refreshToken"].(string)
	for _, member := range []string{"RefreshToken", "refreshToken", "REFRESHTOKEN"} {
		r := do(t, app(), "POST", "/v1/oauth2/token", jsonCT, `{"`+member+`":"`+rt+`"}`)
		if r.Status != 200 || r.Body["success"] != true || len(errorsOf(r)) != 0 || r.Body["id"] != m.PublicKeyID {
			t.Fatalf("%s: %d %s", member, r.Status, r.Raw)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("no Cache-Control: no-store")
		}
		next := r.Body["refreshToken"].(string)
		if next == rt || len(next) != 46 {
			t.Fatalf("refreshToken %q", next)
		}
		if exp := int64(r.Body["expires"].(float64)); exp < time.Now().Add(590*time.Second).UnixMilli() {
			t.Fatalf("expires %d", exp)
		}
		_, firstClaims := decodeJWT(t, first.Body["accessToken"].(string))
		_, claims := decodeJWT(t, r.Body["accessToken"].(string))
		if claims["auth_time"] != firstClaims["auth_time"] || claims["sub"] != m.SecretKeyID || claims["scope"] != firstClaims["scope"] {
			t.Fatalf("claims %v", claims)
		}
		if got := createKeyWith(t, app(), m, r.Body["accessToken"].(string)); got.Status != 201 {
			t.Fatalf("refreshed token: %d %s", got.Status, got.Raw)
		}
		if item := refreshItem(t, rt); item["rotated_at"] == nil || item["ttl"] == nil {
			t.Fatalf("the rotated token's record must stay as a tombstone with its TTL: %v", item)
		}
		rt = next
	}
}

func TestOAuthRefreshRotatesForm(t *testing.T) {
	m := newMerchant(t)
	rt := refreshFor(t, m)
	inBody := url.Values{"client_id": {m.AppKey}, "client_secret": {m.AppSecret}}
	// Client authentication in the body, then with HTTP Basic.
	headers := []map[string]string{formCT, withHeader(formCT, "Authorization", basicAuth(m.AppKey, m.AppSecret))}
	extras := []url.Values{inBody, nil}
	for i := range headers {
		r := assertOAuth200(t, refreshForm(t, headers[i], rt, extras[i]), strings.Join(m.Scopes, " "))
		next := r.Body["refresh_token"].(string)
		if next == rt {
			t.Fatal("not rotated")
		}
		if again := refreshForm(t, formCT, rt, inBody); again.Raw != oauthError("invalid_grant", "The refresh token is invalid, expired or revoked.") {
			t.Fatalf("the old token still works: %s", again.Raw)
		}
		// The reuse above revoked the family: start a new one.
		rt = refreshFor(t, m)
	}
	// A refresh may narrow the access token; the refresh token keeps its scope.
	narrowed := url.Values{"scope": {"api-keys:read"}, "client_id": {m.AppKey}, "client_secret": {m.AppSecret}}
	r := assertOAuth200(t, refreshForm(t, formCT, rt, narrowed), "api-keys:read")
	assertOAuth200(t, refreshForm(t, formCT, r.Body["refresh_token"].(string), inBody), strings.Join(m.Scopes, " "))
}

// TestOAuthRefreshNeedsClientAuthentication: a form refresh with the
// refresh token alone is refused (RFC 6749 §6), and the token is not
// spent: its owner can still use it.
func TestOAuthRefreshNeedsClientAuthentication(t *testing.T) {
	m := newMerchant(t)
	rt := refreshFor(t, m)
	r := refreshForm(t, formCT, rt, nil)
	if r.Status != 401 || r.Raw != oauthError("invalid_client", "Client authentication failed.") ||
		r.Header.Get("WWW-Authenticate") != `Basic realm="`+env.Config.Issuer+`", charset="UTF-8"` {
		t.Fatalf("%d %s (WWW-Authenticate %q)", r.Status, r.Raw, r.Header.Get("WWW-Authenticate"))
	}
	if item := refreshItem(t, rt); item["rotated_at"] != nil || item["revoked_at"] != nil {
		t.Fatalf("the refused request changed the token: %v", item)
	}
	assertOAuth200(t, refreshForm(t, withHeader(formCT, "Authorization", basicAuth(m.AppKey, m.AppSecret)), rt, nil), strings.Join(m.Scopes, " "))
}

func TestOAuthRefreshReuseRevokesTheFamily(t *testing.T) {
	m := newMerchant(t)
	rt1 := refreshFor(t, m)
	rt2 := refreshJSON(t, rt1).Body["refreshToken"].(string)
	rt3 := refreshJSON(t, rt2).Body["refreshToken"].(string)
	if rt3 == "" {
		t.Fatal("rotation failed")
	}
	// An attacker replays rt1: refused, and the legitimate holder of rt3
	// is cut off too (OAuth 2.0 Security BCP §4.14).
	for _, rt := range []string{rt1, rt3, rt2} {
		if r := refreshJSON(t, rt); r.Status != 400 || r.Raw != wantInvalidRefresh {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
	// The key pair itself is fine: a new exchange starts a new family.
	if r := refreshJSON(t, refreshFor(t, m)); r.Status != 200 {
		t.Fatalf("new family: %d %s", r.Status, r.Raw)
	}
}

func TestOAuthRefreshConcurrentUseAtMostOneSuccess(t *testing.T) {
	m := newMerchant(t)
	rt := refreshFor(t, m)
	const n = 8
	results := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = refreshJSON(t, rt)
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, r := range results {
		switch {
		case r.Status == 200:
			wins++
		case r.Status != 400 || r.Raw != wantInvalidRefresh:
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
	if wins > 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded", wins, n)
	}
	t.Logf("%d of %d concurrent refreshes succeeded", wins, n)
	// A token presented twice is a reuse, concurrent or not: the family is
	// revoked, so even the winner's new refresh token is refused.
	for _, r := range results {
		if r.Status == 200 {
			if again := refreshJSON(t, r.Body["refreshToken"].(string)); again.Raw != wantInvalidRefresh {
				t.Fatalf("the family survived a concurrent reuse: %d %s", again.Status, again.Raw)
			}
		}
	}
}

func TestOAuthRefreshDiesWithItsKeyAtOnce(t *testing.T) {
	for _, which := range []string{"secret", "public"} {
		t.Run(which, func(t *testing.T) {
			m := newMerchant(t)
			rt := refreshFor(t, m)
			id, value := m.SecretKeyID, m.AppSecret
			if which == "public" {
				id, value = m.PublicKeyID, m.AppKey
			}
			simulateDelete(t, id, value)
			if r := refreshJSON(t, rt); r.Raw != wantInvalidRefresh {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestOAuthRefreshAcrossARoll(t *testing.T) {
	m := newMerchant(t)
	first := exchange(t, m)
	_, claims := decodeJWT(t, first.Body["accessToken"].(string))
	authTime := time.Unix(int64(claims["auth_time"].(float64)), 0)
	rolledAt := authTime.Add(time.Second)

	// In the grace period the old value and its refresh tokens still work.
	simulateRoll(t, m.SecretKeyID, m.AppSecret, rolledAt, time.Now().Add(time.Hour))
	r := refreshJSON(t, first.Body["refreshToken"].(string))
	if r.Status != 200 {
		t.Fatalf("in grace: %d %s", r.Status, r.Raw)
	}
	rt := r.Body["refreshToken"].(string)
	exchange(t, m) // and the old value still authenticates

	// Grace over: the family dies, although its last token was issued after
	// the roll, and the old value no longer authenticates.
	simulateRoll(t, m.SecretKeyID, m.AppSecret, rolledAt, time.Now().Add(-time.Second))
	if r := refreshJSON(t, rt); r.Raw != wantInvalidRefresh {
		t.Fatalf("after grace: %d %s", r.Status, r.Raw)
	}
	r = do(t, app(), "POST", "/v1/oauth2/token", jsonCT, `{"AppKey":"`+m.AppKey+`","AppSecret":"`+m.AppSecret+`"}`)
	if r.Raw != `{"success":false,"errors":["Invalid AppKey or AppSecret."]}`+"\n" {
		t.Fatalf("old value after grace: %d %s", r.Status, r.Raw)
	}
}

func TestOAuthLastUsedMoves(t *testing.T) {
	m := newMerchant(t)
	old := map[string]types.AttributeValue{":old": rfc3339(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))}
	reset := func() {
		transact(t,
			types.TransactWriteItem{Update: update("KEY#"+m.SecretKeyID, "META", "SET last_used = :old", old)},
			types.TransactWriteItem{Update: update("KEY#"+m.PublicKeyID, "META", "SET last_used = :old", old)},
		)
	}
	assertMoved := func(what string, since time.Time) {
		t.Helper()
		for _, id := range []string{m.SecretKeyID, m.PublicKeyID} {
			lu, _ := keyItem(t, id)["last_used"].(*types.AttributeValueMemberS)
			got, err := time.Parse(time.RFC3339, lu.Value)
			if err != nil || got.Before(since.Truncate(time.Second)) || got.After(time.Now()) {
				t.Fatalf("%s: last_used of %s = %v", what, id, lu.Value)
			}
		}
	}
	reset()
	since := time.Now()
	rt := refreshFor(t, m)
	assertMoved("exchange", since)
	reset()
	since = time.Now()
	if r := refreshJSON(t, rt); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	assertMoved("refresh", since)
}
