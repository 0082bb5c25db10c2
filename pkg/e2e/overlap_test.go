package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/flexfactor/credplane/pkg/apitest"
)

// Calls that a route makes at once (the Sign and the transaction of a
// token request) fail one at a time here, on the real stack: the answer
// must be the one the route gave when it made them one after another, and
// nothing usable may be left written.

// opFaults fails AWS operations by name ("KMS Sign") before they are sent,
// as the service would answer them.
type opFaults struct {
	mu sync.Mutex
	m  map[string]error
}

func (f *opFaults) set(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]error{}
	}
	f.m[op] = err
}

func (f *opFaults) clear() { f.mu.Lock(); defer f.mu.Unlock(); clear(f.m) }

func (f *opFaults) fail(_ context.Context, op string, _ any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[op]
}

// faultyStack is the whole stack on clients that fail what f says, with a
// token limit of limit.
func faultyStack(f *opFaults, limit int) http.Handler {
	d := apitest.Deps(nil)
	d.Config.TokenRateLimit = limit
	d.Clients = apitest.Intercept(d.Clients, f.fail)
	return d.All()
}

// The failures a call meets, and the answer each got when the calls of a
// token request were made one after another.
var callFailures = []struct {
	name   string
	err    error
	status int
	body   string
}{
	{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, 503, `{"errors":["Service temporarily unavailable."]}` + "\n"},
	{"refused", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed"}, 500, `{"errors":["Internal error."]}` + "\n"},
}

// checkFailed checks the answer to a request one of whose calls failed.
func checkFailed(t *testing.T, what string, r apitest.Response, status int, body string) {
	t.Helper()
	if r.Status != status || r.Raw != body || (status == 503) != (r.Header.Get("Retry-After") == "1") {
		t.Fatalf("%s: %d %v %s, want %d %s", what, r.Status, r.Header, r.Raw, status, body)
	}
}

// checkUsable fails unless the refresh tokens of a secret key that could
// still be presented (neither rotated nor revoked) are exactly rts.
func checkUsable(t *testing.T, what, secretKeyID string, rts ...string) {
	t.Helper()
	out, err := apitest.Env().Clients.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:        aws.String(apitest.Env().Config.TableName),
		FilterExpression: aws.String("begins_with(pk, :refresh) AND secret_key_id = :key AND attribute_not_exists(rotated_at) AND attribute_not_exists(revoked_at) AND attribute_not_exists(withdrawn_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":refresh": &types.AttributeValueMemberS{Value: "REFRESH#"},
			":key":     &types.AttributeValueMemberS{Value: secretKeyID},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.LastEvaluatedKey != nil {
		t.Fatalf("scan: %v (or more than a page)", err)
	}
	var live, want []string
	for _, item := range out.Items {
		live = append(live, item["pk"].(*types.AttributeValueMemberS).Value)
	}
	for _, rt := range rts {
		d := sha256.Sum256([]byte(rt))
		want = append(want, "REFRESH#"+hex.EncodeToString(d[:]))
	}
	slices.Sort(live)
	slices.Sort(want)
	if !slices.Equal(live, want) {
		t.Fatalf("%s: %d usable refresh tokens %v, want %d: the ones handed out", what, len(live), live, len(want))
	}
}

// mustRefresh presents rt, which must still work.
func mustRefresh(t *testing.T, what string, h http.Handler, rt string) {
	t.Helper()
	if r := apitest.RefreshJSONOn(t, h, rt); r.Status != 200 {
		t.Fatalf("%s: %d %s", what, r.Status, r.Raw)
	}
}

func TestTokenSignFailure(t *testing.T) {
	for _, c := range callFailures {
		t.Run(c.name, func(t *testing.T) {
			f := &opFaults{}
			h := faultyStack(f, 2)
			m := apitest.NewMerchant(t)
			f.set("KMS Sign", c.err)
			checkFailed(t, "exchange", apitest.ExchangeOn(t, h, m.AppKey, m.AppSecret), c.status, c.body)
			checkUsable(t, "after a failed exchange", m.SecretKeyID)
			f.clear()
			rt := apitest.Str(apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret), "refreshToken")

			f.set("KMS Sign", c.err)
			checkFailed(t, "refresh", apitest.RefreshJSONOn(t, h, rt), c.status, c.body)
			checkUsable(t, "after a failed refresh", m.SecretKeyID, rt)
			f.clear()
			// The token presented still works, and neither failure counted
			// against the limit of 2, which the two tokens issued reach.
			mustRefresh(t, "the refresh token presented when signing failed", h, rt)
			if r := apitest.ExchangeOn(t, h, m.AppKey, m.AppSecret); r.Status != 429 {
				t.Fatalf("a third token: %d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestTokenWriteFailure(t *testing.T) {
	for _, c := range callFailures {
		t.Run(c.name, func(t *testing.T) {
			f := &opFaults{}
			h := faultyStack(f, 100)
			m := apitest.NewMerchant(t)
			rt := apitest.Str(apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret), "refreshToken")
			f.set("DynamoDB TransactWriteItems", c.err)
			checkFailed(t, "exchange", apitest.ExchangeOn(t, h, m.AppKey, m.AppSecret), c.status, c.body)
			checkFailed(t, "refresh", apitest.RefreshJSONOn(t, h, rt), c.status, c.body)
			checkUsable(t, "after failed writes", m.SecretKeyID, rt)
			f.clear()
			mustRefresh(t, "the refresh token presented when the write failed", h, rt)
		})
	}
}

// TestIdempotentCreateCallFailure: an idempotent create makes its data key
// while it writes its claim. Either failing gives the answer of the create
// that made them one after another, creates nothing, and leaves the
// idempotency key free for the retry, which creates one key.
func TestIdempotentCreateCallFailure(t *testing.T) {
	for _, op := range []string{"KMS GenerateDataKey", "DynamoDB PutItem"} {
		for _, c := range callFailures {
			t.Run(op+" "+c.name, func(t *testing.T) {
				f := &opFaults{}
				h := faultyStack(f, 0)
				m := apitest.NewMerchant(t)
				tok := apitest.TokenOn(t, h, m)
				header := apitest.WithIdempotencyKey(tok, apitest.NewIdempotencyKey())
				body := `{"mid":"` + m.MID + `","name":"retried","type":"secret","scopes":["charges:read"]}`
				f.set(op, c.err)
				checkFailed(t, "create", apitest.Do(t, h, "POST", "/v1/api-keys", header, body), c.status, c.body)
				f.clear()
				created := apitest.Do(t, h, "POST", "/v1/api-keys", header, body)
				if created.Status != 201 || created.Header.Get("Idempotent-Replayed") != "" {
					t.Fatalf("retry: %d %v %s", created.Status, created.Header, created.Raw)
				}
				list := apitest.Do(t, h, "GET", "/v1/api-keys?mid="+m.MID, apitest.Bearer(tok), "")
				if keys, _ := list.Body["keys"].([]any); len(keys) != 3 { // the merchant's pair and the one created
					t.Fatalf("%d keys after a failed create and its retry: %s", len(keys), list.Raw)
				}
			})
		}
	}
}
