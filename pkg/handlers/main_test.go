package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
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
	return rec
}

// decode checks what every answer must have and decodes its JSON body.
func decode(t testing.TB, method, path string, rec *httptest.ResponseRecorder) response {
	t.Helper()
	raw, _ := io.ReadAll(rec.Body)
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

// tokenFor exchanges the merchant's pair for an access token.
func tokenFor(t testing.TB, m merchant) string {
	t.Helper()
	r := do(t, app(), "POST", "/v1/oauth2/token", jsonCT, `{"AppKey":"`+m.AppKey+`","AppSecret":"`+m.AppSecret+`"}`)
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Raw)
	}
	return r.Body["accessToken"].(string)
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
func assertKeyCount(t *testing.T, m merchant, want int) {
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
