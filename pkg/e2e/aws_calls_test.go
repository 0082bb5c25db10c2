package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go/middleware"
	"github.com/flexfactor/credplane/pkg/apitest"
)

// callLog records every AWS operation the SDK clients send, with the index
// of a DynamoDB Query.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (c *callLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	slices.Sort(out)
	return out
}

func (c *callLog) register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("callLog", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		name := awsmiddleware.GetServiceID(ctx) + " " + awsmiddleware.GetOperationName(ctx)
		if q, ok := in.Parameters.(*dynamodb.QueryInput); ok && q.IndexName != nil {
			name += " on " + *q.IndexName
		}
		c.mu.Lock()
		c.calls = append(c.calls, name)
		c.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

// countedStack is the whole stack on clients that report to the call log.
func countedStack() (*callLog, http.Handler) {
	log := &callLog{}
	clients := apitest.Env().Clients
	clients.DynamoDB = dynamodb.New(apitest.Env().Clients.DynamoDB.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(slices.Clone(o.APIOptions), log.register)
	})
	clients.KMS = kms.New(apitest.Env().Clients.KMS.Options(), func(o *kms.Options) {
		o.APIOptions = append(slices.Clone(o.APIOptions), log.register)
	})
	d := apitest.Deps(nil)
	d.Clients = clients
	return log, d.All()
}

// TestLifecycleAWSCallsPerRoute pins each route to the AWS calls of its
// floor: a change that adds a round trip fails here.
func TestLifecycleAWSCallsPerRoute(t *testing.T) {
	calls, h := countedStack()
	m := apitest.NewMerchant(t)
	tok := apitest.TokenOn(t, h, m)
	apitest.MustCreateKey( // also fetches the verification key: once per stack
		t, h, tok, `{"mid":"`+m.MID+`","name":"warm","type":"public"}`)
	rt := apitest.Str(apitest.MustExchangeOn(t, h, m.AppKey, m.AppSecret), "refreshToken")
	calls.take()

	const (
		get      = "DynamoDB GetItem"
		batchGet = "DynamoDB BatchGetItem"
		sign     = "KMS Sign"
		query    = "DynamoDB Query"
		queryGSI = "DynamoDB Query on gsi1"
		put      = "DynamoDB PutItem"
		transact = "DynamoDB TransactWriteItems"
		genKey   = "KMS GenerateDataKey"
		decrypt  = "KMS Decrypt"
	)
	sec := apitest.MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"s","type":"secret","scopes":["charges:read"]}`)
	if got := calls.take(); !slices.Equal(got, []string{transact, genKey}) {
		t.Fatalf("create: %q", got)
	}
	idem := apitest.WithIdempotencyKey(tok, apitest.NewIdempotencyKey())
	idemBody := `{"mid":"` + m.MID + `","name":"i","type":"secret","scopes":["charges:read"]}`
	steps := []struct {
		name, method, path string
		header             map[string]string
		body               string
		status             int
		want               []string
	}{
		// The token count per key rides in the exchange's and the refresh's
		// own transaction: no call of its own.
		{"exchange", "POST", "/v1/oauth2/token", apitest.JSONCT, `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`, 200, []string{batchGet, sign, transact}},
		{"refresh", "POST", "/v1/oauth2/token", apitest.JSONCT, `{"RefreshToken":"` + rt + `"}`, 200, []string{get, batchGet, sign, transact}},
		{"get secret", "GET", "/v1/api-keys/" + apitest.Str(sec, "id"), apitest.Bearer(tok), "", 200, []string{query}},
		{"get public (value)", "GET", "/v1/api-keys/" + m.PublicKeyID, apitest.Bearer(tok), "", 200, []string{decrypt, query}},
		{"get missing", "GET", "/v1/api-keys/key_01JD0000000000000000000000", apitest.Bearer(tok), "", 404, []string{query}},
		{"list", "GET", "/v1/api-keys?mid=" + m.MID, apitest.Bearer(tok), "", 200, []string{queryGSI}},
		{"list, upstream path", "GET", "/v1/api-keys/" + m.MID + "?status=all", apitest.Bearer(tok), "", 200, []string{queryGSI}},
		{"idempotent create", "POST", "/v1/api-keys", idem, idemBody, 201, []string{put, transact, genKey}},
		{"idempotent replay", "POST", "/v1/api-keys", idem, idemBody, 201, []string{put, query, decrypt}},
		{"idempotent mismatch", "POST", "/v1/api-keys", idem, strings.Replace(idemBody, `"i"`, `"j"`, 1), 422, []string{put}},
		{"roll", "POST", "/v1/api-keys/" + apitest.Str(sec, "id") + "/roll", apitest.Bearer(tok), `{"grace_seconds":60}`, 200, []string{query, transact, genKey}},
		{"delete", "DELETE", "/v1/api-keys/" + apitest.Str(sec, "id"), apitest.Bearer(tok), "", 200, []string{query, transact}},
		{"delete a key manager", "DELETE", "/v1/api-keys/" + m.SecretKeyID, apitest.Bearer(tok), "", 200, []string{query, queryGSI, transact}},
	}
	for _, s := range steps {
		r := apitest.Do(t, h, s.method, s.path, s.header, s.body)
		got := calls.take()
		want := slices.Sorted(slices.Values(s.want))
		if r.Status != s.status || !slices.Equal(got, want) {
			t.Errorf("%s: %d, calls %q, want %q", s.name, r.Status, got, want)
		}
	}
}
