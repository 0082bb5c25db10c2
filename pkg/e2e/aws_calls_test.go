package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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

func (c *callLog) record(_ context.Context, op string, in any) error {
	if q, ok := in.(*dynamodb.QueryInput); ok && q.IndexName != nil {
		op += " on " + *q.IndexName
	}
	c.mu.Lock()
	c.calls = append(c.calls, op)
	c.mu.Unlock()
	return nil
}

// countedStack is the whole stack on clients that report to the call log,
// with a token limit of limit (0: the default).
func countedStack(limit int) (*callLog, http.Handler) {
	log := &callLog{}
	d := apitest.Deps(nil)
	d.Clients = apitest.Intercept(d.Clients, log.record)
	d.Config.TokenRateLimit = limit
	return log, d.All()
}

// TestLifecycleAWSCallsPerRoute pins each route to the AWS calls of its
// floor: a change that adds a round trip fails here.
func TestLifecycleAWSCallsPerRoute(t *testing.T) {
	calls, h := countedStack(0)
	m := apitest.NewMerchant(t)
	tok := apitest.TokenOn(t, h, m)
	apitest.MustCreateKey( // the verification key, fetched once per stack, is there by now
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
		// dropped are calls the route may start alongside another whose
		// answer then makes them needless: they are canceled, and counted
		// only when they were sent already.
		dropped []string
	}{
		// The token count per key rides in the exchange's and the refresh's
		// own transaction: no call of its own.
		{"exchange", "POST", "/v1/oauth2/token", apitest.JSONCT, `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`, 200, []string{batchGet, sign, transact}, nil},
		{"refresh", "POST", "/v1/oauth2/token", apitest.JSONCT, `{"RefreshToken":"` + rt + `"}`, 200, []string{get, batchGet, sign, transact}, nil},
		{"get secret", "GET", "/v1/api-keys/" + apitest.Str(sec, "id"), apitest.Bearer(tok), "", 200, []string{query}, nil},
		{"get public (value)", "GET", "/v1/api-keys/" + m.PublicKeyID, apitest.Bearer(tok), "", 200, []string{decrypt, query}, nil},
		{"get missing", "GET", "/v1/api-keys/key_01JD0000000000000000000000", apitest.Bearer(tok), "", 404, []string{query}, nil},
		{"list", "GET", "/v1/api-keys?mid=" + m.MID, apitest.Bearer(tok), "", 200, []string{queryGSI}, nil},
		{"list, upstream path", "GET", "/v1/api-keys/" + m.MID + "?status=all", apitest.Bearer(tok), "", 200, []string{queryGSI}, nil},
		{"idempotent create", "POST", "/v1/api-keys", idem, idemBody, 201, []string{put, transact, genKey}, nil},
		// The data key of the value an idempotent create would store is made
		// while its claim is written; a claim that answers the request
		// (a replay, a mismatch) drops it.
		{"idempotent replay", "POST", "/v1/api-keys", idem, idemBody, 201, []string{put, query, decrypt}, []string{genKey}},
		{"idempotent mismatch", "POST", "/v1/api-keys", idem, strings.Replace(idemBody, `"i"`, `"j"`, 1), 422, []string{put}, []string{genKey}},
		{"roll", "POST", "/v1/api-keys/" + apitest.Str(sec, "id") + "/roll", apitest.Bearer(tok), `{"grace_seconds":60}`, 200, []string{query, transact, genKey}, nil},
		{"delete", "DELETE", "/v1/api-keys/" + apitest.Str(sec, "id"), apitest.Bearer(tok), "", 200, []string{query, transact}, nil},
		{"delete a key manager", "DELETE", "/v1/api-keys/" + m.SecretKeyID, apitest.Bearer(tok), "", 200, []string{query, queryGSI, transact}, nil},
	}
	for _, s := range steps {
		r := apitest.Do(t, h, s.method, s.path, s.header, s.body)
		got := calls.take()
		want := slices.Sorted(slices.Values(s.want))
		withDropped := slices.Sorted(slices.Values(append(slices.Clone(s.want), s.dropped...)))
		if r.Status != s.status || (!slices.Equal(got, want) && !slices.Equal(got, withDropped)) {
			t.Errorf("%s: %d, calls %q, want %q (and maybe %q)", s.name, r.Status, got, want, s.dropped)
		}
	}
}

// TestAKeyPastItsLimitCostsNoSignature: the first exchange refused for the
// key's rate may have been signed while its write was under way (the
// signing is canceled and the signature dropped); once the container has
// seen the refusal, the key's requests write first and sign nothing until
// the minute ends.
func TestAKeyPastItsLimitCostsNoSignature(t *testing.T) {
	calls, h := countedStack(1)
	m := apitest.NewMerchant(t)
	apitest.Do(t, h, "GET", "/v1/oauth2/jwks", nil, "") // the keys fetched at start, and their call counted
	calls.take()
	const (
		batchGet = "DynamoDB BatchGetItem"
		sign     = "KMS Sign"
		transact = "DynamoDB TransactWriteItems"
	)
	for i, want := range []struct {
		status int
		calls  [][]string // any of
	}{
		{200, [][]string{{batchGet, sign, transact}}},
		{429, [][]string{{batchGet, sign, transact}, {batchGet, transact}}},
		{429, [][]string{{batchGet, transact}}},
		{429, [][]string{{batchGet, transact}}},
	} {
		r := apitest.ExchangeOn(t, h, m.AppKey, m.AppSecret)
		got := calls.take()
		ok := slices.ContainsFunc(want.calls, func(w []string) bool { return slices.Equal(got, slices.Sorted(slices.Values(w))) })
		if r.Status != want.status || !ok {
			t.Errorf("exchange %d: %d, calls %q, want %d and one of %q", i+1, r.Status, got, want.status, want.calls)
		}
	}
}
