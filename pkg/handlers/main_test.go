package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/infra/localenv"
	"github.com/flexfactor/credplane/pkg/dynamostore"
	"github.com/flexfactor/credplane/pkg/handlers"
	"github.com/flexfactor/credplane/pkg/logging"
)

// env is the sandbox stage provisioned on the emulators for this package.
var env *localenv.Env

// logs captures every log line the handlers write during the tests, so the
// log test can check that no secret reached them.
var logs = &syncBuffer{}

func TestMain(m *testing.M) {
	os.Exit(localenv.Main(m, func(e *localenv.Env) { env = e }))
}

// secrets collects every key value, token and refresh token that crossed the
// HTTP boundary in either direction, for the log test.
var secrets = struct {
	sync.Mutex
	seen map[string]bool
}{seen: map[string]bool{}}

var secretPattern = regexp.MustCompile(`(?:sk|pk|tk)_(?:test|live)_[0-9A-Za-z]{36}|rt_[0-9A-Za-z_-]{43}|eyJ[0-9A-Za-z_-]+\.[0-9A-Za-z_-]+\.[0-9A-Za-z_-]*`)

func remember(texts ...string) {
	secrets.Lock()
	defer secrets.Unlock()
	for _, t := range texts {
		for _, s := range secretPattern.FindAllString(t, -1) {
			secrets.seen[s] = true
		}
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// deps returns the real handler stack on the emulators; now may be nil.
func deps(now func() time.Time) handlers.Deps {
	return handlers.Deps{Config: env.Config, Clients: env.Clients, Log: logging.New(logs, "debug"), Now: now}
}

// app is the shared handler serving every route.
var app = sync.OnceValue(func() http.Handler { return deps(nil).All() })

// merchant is an onboarded merchant with its first key pair.
type merchant struct {
	handlers.OnboardResult
}

// newMerchant onboards a fresh merchant through the onboard function's path.
func newMerchant(t testing.TB) merchant {
	t.Helper()
	mid := "mid_" + strings.ToLower(rand.Text()[:12])
	res, err := deps(nil).Onboard()(context.Background(), handlers.OnboardEvent{MID: mid, Name: "Test merchant"})
	if err != nil || !res.Success {
		t.Fatalf("onboard %s: %v %v", mid, err, res.Errors)
	}
	remember(res.AppKey, res.AppSecret)
	return merchant{res}
}

// response is a recorded HTTP response with its JSON body decoded.
type response struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

// do sends a request through h and decodes the JSON answer.
func do(t testing.TB, h http.Handler, method, path string, header map[string]string, body string) response {
	t.Helper()
	return decode(t, method, path, serve(h, method, path, header, body))
}

// serve sends a request through h; unlike do, it may run on any goroutine.
func serve(h http.Handler, method, path string, header map[string]string, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	remember(body, header["Authorization"])
	return rec
}

// decode checks what every answer must have and decodes its JSON body.
func decode(t testing.TB, method, path string, rec *httptest.ResponseRecorder) response {
	t.Helper()
	raw, _ := io.ReadAll(rec.Body)
	remember(string(raw)) // here rather than in serve: benchmarks time serve
	r := response{Status: rec.Code, Header: rec.Header(), Raw: string(raw)}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("%s %s: no X-Request-Id", method, path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	if _, ok := r.Body["errors"].([]any); !ok {
		t.Fatalf("%s %s: no errors array in %s", method, path, raw)
	}
	return r
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

// exchangeOn posts a key pair to h's token endpoint in upstream's JSON shape.
func exchangeOn(t testing.TB, h http.Handler, appKey, appSecret string) response {
	t.Helper()
	return do(t, h, "POST", "/v1/oauth2/token", jsonCT, `{"AppKey":"`+appKey+`","AppSecret":"`+appSecret+`"}`)
}

// mustExchangeOn is exchangeOn for a pair that must be accepted.
func mustExchangeOn(t testing.TB, h http.Handler, appKey, appSecret string) response {
	t.Helper()
	r := exchangeOn(t, h, appKey, appSecret)
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Raw)
	}
	return r
}

// exchange trades the merchant's first pair for tokens on the shared stack.
func exchange(t testing.TB, m merchant) response {
	t.Helper()
	return mustExchangeOn(t, app(), m.AppKey, m.AppSecret)
}

// tokenFor returns an access token for the merchant's first pair.
func tokenFor(t testing.TB, m merchant) string {
	t.Helper()
	return str(exchange(t, m), "accessToken")
}

// tokenOn returns an access token for the merchant's first pair from h.
func tokenOn(t testing.TB, h http.Handler, m merchant) string {
	t.Helper()
	return str(mustExchangeOn(t, h, m.AppKey, m.AppSecret), "accessToken")
}

// tokenWith returns an access token for an explicit pair.
func tokenWith(t testing.TB, appKey, appSecret string) string {
	t.Helper()
	return str(mustExchangeOn(t, app(), appKey, appSecret), "accessToken")
}

// bearer returns JSON headers with the token in upstream's lowercase scheme.
func bearer(tok string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "Authorization": "bearer " + tok}
}

// errorsOf returns a body's errors as strings.
func errorsOf(r response) []string {
	var out []string
	for _, e := range r.Body["errors"].([]any) {
		out = append(out, e.(string))
	}
	return out
}

// silence keeps slog's default logger quiet in tests.
func init() { slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil))) }

// assertKeyCount checks how many key records the merchant has, read straight
// from the table's merchant index.
func assertKeyCount(t testing.TB, m merchant, want int) {
	t.Helper()
	out, err := env.Clients.DynamoDB.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(env.Config.TableName),
		IndexName:              aws.String(dynamostore.IndexGSI1),
		KeyConditionExpression: aws.String("gsi1pk = :m"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":m": &types.AttributeValueMemberS{Value: "MID#" + m.MID},
		},
		Select: types.SelectCount,
	})
	if err != nil {
		t.Fatal(err)
	}
	if int(out.Count) != want {
		t.Fatalf("merchant %s has %d keys, want %d", m.MID, out.Count, want)
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

var formCT = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

// withHeader returns h plus one more header.
func withHeader(h map[string]string, name, value string) map[string]string {
	out := map[string]string{name: value}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// basicAuth is an HTTP Basic header value for a client id and secret,
// form-encoded first as RFC 6749 §2.3.1 asks.
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// keyItem reads a key record (KEY#<id> / META) straight from the table.
func keyItem(t *testing.T, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := env.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(env.Config.TableName),
		Key:            tableKey("KEY#"+id, "META"),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func tableKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
}

func digestPK(value string) string {
	d := sha256.Sum256([]byte(value))
	return "DIGEST#" + hex.EncodeToString(d[:])
}

func rfc3339(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberS{Value: t.UTC().Format(time.RFC3339)}
}

// simulateDelete does to a key what DELETE /v1/api-keys/{id} does (issue 5's
// contract): the record is marked revoked and the value's digest item is
// removed, in one transaction.
func simulateDelete(t *testing.T, id, value string) {
	t.Helper()
	transact(t,
		types.TransactWriteItem{Update: update("KEY#"+id, "META", "SET revoked = :t, revoked_at = :now", map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":now": rfc3339(time.Now()),
		})},
		types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(env.Config.TableName), Key: tableKey(digestPK(value), "DIGEST")}},
	)
}

// simulateRoll does to a key what POST /v1/api-keys/{id}/roll does (issue
// 5's contract) as far as the old value is concerned: the record gets
// rolled_at and previous_valid_until, the old digest item valid_until.
func simulateRoll(t *testing.T, id, oldValue string, rolledAt, graceUntil time.Time) {
	t.Helper()
	transact(t,
		types.TransactWriteItem{Update: update("KEY#"+id, "META", "SET rolled_at = :r, previous_valid_until = :g, generation = :gen",
			map[string]types.AttributeValue{":r": rfc3339(rolledAt), ":g": rfc3339(graceUntil), ":gen": &types.AttributeValueMemberN{Value: "2"}})},
		types.TransactWriteItem{Update: update(digestPK(oldValue), "DIGEST", "SET valid_until = :g",
			map[string]types.AttributeValue{":g": rfc3339(graceUntil)})},
	)
}

func update(pk, sk, expr string, values map[string]types.AttributeValue) *types.Update {
	return &types.Update{TableName: aws.String(env.Config.TableName), Key: tableKey(pk, sk), UpdateExpression: aws.String(expr), ExpressionAttributeValues: values}
}

func transact(t *testing.T, items ...types.TransactWriteItem) {
	t.Helper()
	if _, err := env.Clients.DynamoDB.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		t.Fatal(err)
	}
}

// setExpired gives a key an expiry in the past, on its record and on its
// value's digest item, as an expired key has.
func setExpired(t *testing.T, id, value string) {
	t.Helper()
	past := map[string]types.AttributeValue{":p": rfc3339(time.Now().Add(-time.Minute))}
	transact(t,
		types.TransactWriteItem{Update: update("KEY#"+id, "META", "SET expires_at = :p", past)},
		types.TransactWriteItem{Update: update(digestPK(value), "DIGEST", "SET expires_at = :p", past)},
	)
}

// createKeyWith tries POST /v1/api-keys with an access token: a protected
// route's answer.
func createKeyWith(t *testing.T, h http.Handler, m merchant, tok string) response {
	t.Helper()
	return do(t, h, "POST", "/v1/api-keys", bearer(tok), `{"mid":"`+m.MID+`","name":"probe","type":"public"}`)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// assertNotLogged fails when the captured logs hold any of the secrets
// (named for the failure message, never printed), or a form that would give
// one away: its second half, its SHA-256 in hex or base64, its base64, or,
// for a JWT, its signature.
func assertNotLogged(t testing.TB, secrets map[string]string) {
	t.Helper()
	logged := logs.String()
	for name, s := range secrets {
		if s == "" {
			t.Fatalf("%s is empty: the check would prove nothing", name)
		}
		d := sha256.Sum256([]byte(s))
		forms := []string{s, s[len(s)/2:], hex.EncodeToString(d[:]), base64.StdEncoding.EncodeToString(d[:]), base64.StdEncoding.EncodeToString([]byte(s))}
		if parts := strings.Split(s, "."); len(parts) == 3 && parts[2] != "" {
			forms = append(forms, parts[2])
		}
		for _, f := range forms {
			if strings.Contains(logged, f) {
				t.Fatalf("the logs contain the %s (or a form of it)", name)
			}
		}
	}
}
