package e2e_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/flexfactor/credplane/infra/faultproxy"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
)

// faultBudget is the request budget of the stack under fault: small, so
// that the whole matrix runs in seconds.
const faultBudget = 300 * time.Millisecond

// want503 is the contract's answer when a dependency is slow or down.
const want503 = `{"errors":["Service temporarily unavailable."]}` + "\n"

// faults are what a dependency does wrong, each injected through its proxy.
var faults = []struct {
	name   string
	inject func(*faultproxy.Proxy) error
}{
	{"latency past the budget", func(p *faultproxy.Proxy) error { return p.Add(faultproxy.Latency(2*faultBudget, 0)) }},
	{"reset after the request", func(p *faultproxy.Proxy) error { return p.Add(faultproxy.ResetPeer(0)) }},
	{"hang", func(p *faultproxy.Proxy) error { return p.Add(faultproxy.Timeout(0).On(faultproxy.Requests)) }},
	{"down", func(p *faultproxy.Proxy) error { p.Down(); return nil }},
	{"answer cut, slow close", func(p *faultproxy.Proxy) error {
		if err := p.Add(faultproxy.LimitData(64)); err != nil {
			return err
		}
		return p.Add(faultproxy.SlowClose(2 * faultBudget))
	}},
	{"throttled", (*faultproxy.Proxy).Throttle},
}

// scene is one route under one fault: a merchant, the stack under fault
// (warm, as a container serving traffic is), and the same stage served
// straight from the emulators, both on one clock.
type scene struct {
	t       *testing.T
	clock   *apitest.Clock
	faulty  http.Handler
	healthy http.Handler
	proxies *faultproxy.Stack
	// triggers inject the fault into DynamoDB's or KMS's traffic.
	triggers map[string]*trigger
	m        apitest.Merchant
	tok      string
}

// call is a request of a route, and what settle needs to know of it.
type call struct {
	method, path string
	header       map[string]string
	body         string
	// key is the key the request acts on, value its value (roll, delete);
	// rt is the refresh token it presents (refresh, revoke).
	key, value, rt string
}

func (s *scene) send(h http.Handler, c call) apitest.Response {
	s.t.Helper()
	return apitest.Do(s.t, h, c.method, c.path, c.header, c.body)
}

// faultRoutes are the routes that write, each with the calls a fault is
// injected at (the route's writes to DynamoDB, its call to KMS), the
// request it sends under the fault, and how it settles once the
// dependency is back: what the table shows, and that a retry completes
// the request. settle returns what the failed request had done.
var faultRoutes = []struct {
	name    string
	bearer  bool     // whether the route takes a bearer token
	targets []string // "<service> <operation>"
	arrange func(s *scene) call
	settle  func(s *scene, c call) string
}{
	{"create", true, []string{"DynamoDB PutItem", "DynamoDB TransactWriteItems", "KMS GenerateDataKey"}, func(s *scene) call {
		return call{method: "POST", path: "/v1/api-keys", header: apitest.WithIdempotencyKey(s.tok, apitest.NewIdempotencyKey()),
			body: `{"mid":"` + s.m.MID + `","name":"under fault","type":"secret","scopes":["charges:read"]}`}
	}, settleCreate},
	{"roll", true, []string{"DynamoDB TransactWriteItems", "KMS GenerateDataKey"}, func(s *scene) call {
		k := newKey(s)
		return call{method: "POST", path: "/v1/api-keys/" + k.key + "/roll", header: apitest.Bearer(s.tok), body: `{"grace_seconds":60}`, key: k.key, value: k.value}
	}, settleRoll},
	{"delete", true, []string{"DynamoDB TransactWriteItems"}, func(s *scene) call {
		k := newKey(s)
		return call{method: "DELETE", path: "/v1/api-keys/" + k.key, header: apitest.Bearer(s.tok), key: k.key, value: k.value}
	}, settleDelete},
	{"token exchange", false, []string{"DynamoDB TransactWriteItems", "KMS Sign"}, func(s *scene) call {
		return call{method: "POST", path: "/v1/oauth2/token", header: apitest.JSONCT, body: `{"AppKey":"` + s.m.AppKey + `","AppSecret":"` + s.m.AppSecret + `"}`}
	}, settleExchange},
	{"refresh", false, []string{"DynamoDB TransactWriteItems", "KMS Sign"}, func(s *scene) call {
		rt := apitest.Str(apitest.MustExchangeOn(s.t, s.healthy, s.m.AppKey, s.m.AppSecret), "refreshToken")
		return call{method: "POST", path: "/v1/oauth2/token", header: apitest.JSONCT, body: `{"RefreshToken":"` + rt + `"}`, rt: rt}
	}, settleRefresh},
	{"revoke", false, []string{"DynamoDB TransactWriteItems"}, func(s *scene) call {
		rt := apitest.Str(apitest.MustExchangeOn(s.t, s.healthy, s.m.AppKey, s.m.AppSecret), "refreshToken")
		return call{method: "POST", path: "/v1/oauth2/revoke", header: apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(s.m.AppKey, s.m.AppSecret)),
			body: url.Values{"token": {rt}}.Encode(), rt: rt}
	}, settleRevoke},
}

// faultCase is one route, one call of it and one fault.
type faultCase struct {
	name    string
	target  string
	inject  func(*faultproxy.Proxy) error
	route   int
	scene   *scene
	call    call
	answer  *httptest.ResponseRecorder
	outcome string
	// abandoned are the merchants of attempts run again.
	abandoned []string
}

// TestDependencyFaults: for every writing route, every fault injected at
// each of its writes to DynamoDB and at its call to KMS is answered with
// the contract's 503 and Retry-After, never a hang; the table then holds
// all of the request or none of it, and a retry once the dependency is
// back completes it. Durations are logged, never asserted: go test -v
// prints the matrix.
func TestDependencyFaults(t *testing.T) {
	var cases []*faultCase
	for i, rt := range faultRoutes {
		for _, target := range rt.targets {
			for _, f := range faults {
				cases = append(cases, &faultCase{name: rt.name + "/" + target + "/" + f.name, target: target, inject: f.inject, route: i})
			}
		}
	}
	for _, c := range cases {
		c.prepare(t)
	}
	// The requests run a few at a time (DynamoDB Local answers one call
	// at a time): they spend most of it waiting on a dependency that does
	// not answer.
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c.send()
		})
	}
	wg.Wait()
	// A request that failed before it reached the call its fault was armed
	// at proves nothing: a busy machine can spend the small budget on the
	// calls before it. Such a case runs again, alone.
	for _, c := range cases {
		for try := 0; try < 2 && !c.reached(); try++ {
			cause, _, _ := answerLog(apitest.Response{Header: c.answer.Header()})
			t.Logf("%s: the request ended before the call the fault was armed at (%v); running it again", c.name, cause)
			c.abandoned = append(c.abandoned, c.scene.m.MID)
			c.prepare(t)
			c.send()
		}
	}
	tbl := apitest.ReadTable(t) // every request has ended
	t.Run("settle", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				s := c.scene
				s.t = t
				if err := s.proxies.Heal(); err != nil {
					t.Fatal(err)
				}
				r := apitest.Decode(t, c.call.method, c.call.path, c.answer)
				if r.Status != http.StatusServiceUnavailable || r.Raw != want503 || r.Header.Get("Retry-After") != "1" {
					t.Fatalf("%d %v %s", r.Status, r.Header, r.Raw)
				}
				took := logAnswer(t, r)
				service, _, _ := strings.Cut(c.target, " ")
				if err := s.triggers[service].fired(); err != nil {
					t.Fatal(err)
				}
				for _, mid := range append(c.abandoned, s.m.MID) {
					tbl.AssertInvariants(t, mid)
				}
				c.outcome = took + "; " + faultRoutes[c.route].settle(s, c.call)
			})
		}
	})
	for _, c := range cases {
		t.Logf("%-60s %s", c.name, c.outcome)
	}
}

// prepare sets the case up on a new scene and arms its fault.
func (c *faultCase) prepare(t *testing.T) {
	c.scene = newScene(t, faultRoutes[c.route].bearer)
	c.call = faultRoutes[c.route].arrange(c.scene)
	c.scene.clock.Advance(2 * time.Second) // the request's stamps are not the set-up's
	service, op, _ := strings.Cut(c.target, " ")
	p := c.scene.proxies.DynamoDB
	if service == "KMS" {
		p = c.scene.proxies.KMS
	}
	c.scene.triggers[service].arm(op, func() error { return c.inject(p) })
}

// send sends the case's request to the stack under fault; it may run on
// any goroutine.
func (c *faultCase) send() {
	c.answer = apitest.Serve(c.scene.faulty, c.call.method, c.call.path, c.call.header, c.call.body)
}

// reached reports whether the request made the call its fault was armed at.
func (c *faultCase) reached() bool {
	service, _, _ := strings.Cut(c.target, " ")
	return c.scene.triggers[service].fired() == nil
}

// newScene onboards a merchant and builds a stack under fault. For a
// route that takes a bearer token it gets the merchant a token and warms
// the stack: its verification keys and its cache of key standing are
// loaded, so the fault meets the calls of the route itself.
func newScene(t *testing.T, bearer bool) *scene {
	clk := apitest.NewClock()
	d, proxies := apitest.Proxied(t, clk.Now, faultBudget)
	s := &scene{t: t, clock: clk, healthy: apitest.StackAt(clk), proxies: proxies, m: apitest.NewMerchant(t), triggers: map[string]*trigger{}}
	ddb := d.Clients.DynamoDB.Options()
	s.triggers["DynamoDB"] = &trigger{inner: ddb.HTTPClient}
	ddb.HTTPClient = s.triggers["DynamoDB"]
	d.Clients.DynamoDB = dynamodb.New(ddb)
	kmso := d.Clients.KMS.Options()
	s.triggers["KMS"] = &trigger{inner: kmso.HTTPClient}
	kmso.HTTPClient = s.triggers["KMS"]
	d.Clients.KMS = kms.New(kmso)
	s.faulty = d.All()
	if !bearer {
		return s
	}
	s.tok = apitest.TokenOn(t, s.healthy, s.m)
	var r apitest.Response
	for range 3 { // the budget is small, and the machine may be busy
		if r = s.send(s.faulty, call{method: "GET", path: "/v1/api-keys/" + s.m.SecretKeyID, header: apitest.Bearer(s.tok)}); r.Status == http.StatusOK {
			return s
		}
	}
	t.Fatalf("warming the stack under fault: %d %s", r.Status, r.Raw)
	return nil
}

// trigger passes an SDK client's requests on, and injects a fault just
// before the first request of one operation once armed, so that the fault
// meets that call and not the ones before it.
type trigger struct {
	inner interface {
		Do(*http.Request) (*http.Response, error)
	}
	mu     sync.Mutex
	op     string
	inject func() error
	done   bool
	err    error
}

func (tr *trigger) arm(op string, inject func() error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.op, tr.inject = op, inject
}

func (tr *trigger) Do(r *http.Request) (*http.Response, error) {
	tr.mu.Lock()
	if tr.inject != nil && !tr.done && strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+tr.op) {
		tr.done, tr.err = true, tr.inject()
	}
	tr.mu.Unlock()
	return tr.inner.Do(r)
}

// fired reports an error unless the fault was injected, and injected well.
func (tr *trigger) fired() error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.done {
		return errors.New("the request never made the call the fault was armed at")
	}
	return tr.err
}

// logAnswer finds the 503 in the logs, the dependency's failure with its
// cause and the access line, and logs them; it returns the duration.
func logAnswer(t *testing.T, r apitest.Response) string {
	t.Helper()
	cause, took, deadline := answerLog(r)
	if cause == nil || took == nil {
		t.Fatalf("no dependency failure or access line logged for request %s", r.Header.Get("X-Request-Id"))
	}
	t.Logf("503 after %v ms (deadline exceeded: %v): %v", took, deadline, cause)
	out := fmt.Sprintf("503 in %4.0f ms", took)
	if deadline == true {
		out += " (deadline)"
	}
	return out
}

// answerLog is what the logs say of the request r answered: the cause of
// a dependency's failure, the duration and whether the deadline passed.
func answerLog(r apitest.Response) (cause, took, deadline any) {
	for _, rec := range apitest.LogLinesOf(r) {
		switch rec["msg"] {
		case "dependency unavailable":
			cause = rec["error"]
		case "request":
			took, deadline = rec["duration_ms"], rec["deadline_exceeded"]
		}
	}
	return cause, took, deadline
}

type created struct{ key, value string }

// newKey creates a secret key of the scene's merchant on the healthy stack.
func newKey(s *scene) created {
	r := apitest.MustCreateKey(s.t, s.healthy, s.tok, `{"mid":"`+s.m.MID+`","name":"target","type":"secret","scopes":["charges:read"]}`)
	return created{apitest.Str(r, "id"), apitest.Str(r, "value")}
}

// settleCreate: the merchant has its two keys, and the one the request
// created if it committed; a retry creates it or replays it (after the
// lock of a claim the failed request could not release), and the next
// replays it: one key, whatever the fault.
func settleCreate(s *scene, c call) string {
	t := s.t
	out := "no key"
	if apitest.KeyCount(t, s.m) == 3 {
		out = "key created, answer lost"
	}
	r := s.send(s.healthy, c)
	if r.Status == http.StatusConflict {
		out += "; retry 409 until the claim's lock passed"
		s.clock.Advance(apikey.IdempotencyLock)
		r = s.send(s.healthy, c)
	}
	if r.Status != http.StatusCreated {
		t.Fatalf("retry: %d %s", r.Status, r.Raw)
	}
	if r.Header.Get("Idempotent-Replayed") == "true" {
		out += "; retry replays it"
	}
	again := s.send(s.healthy, c)
	if again.Status != http.StatusCreated || apitest.Str(again, "id") != apitest.Str(r, "id") || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("second retry: %d %v %s", again.Status, again.Header, again.Raw)
	}
	apitest.AssertKeyCount(t, s.m, 3)
	return out
}

// settleRoll: the old value still works (rolled or not, it is within its
// grace period), and a retry rolls the key.
func settleRoll(s *scene, c call) string {
	t := s.t
	out := "not rolled"
	if apitest.AttrN(apitest.KeyRecord(t, c.key), "generation") != "1" {
		out = "rolled, answer lost"
	}
	apitest.AssertPair(t, s.healthy, s.m.AppKey, c.value, true) // rolled or not, within its grace period
	v := apitest.RollOn(t, s.healthy, s.tok, c.key, `{"grace_seconds":0}`)
	apitest.AssertPair(t, s.healthy, s.m.AppKey, v, true)
	return out
}

// settleDelete: a retry deletes the key, deleted or not.
func settleDelete(s *scene, c call) string {
	t := s.t
	out := "not deleted"
	gone, _ := apitest.AttrBool(apitest.KeyRecord(t, c.key), "revoked")
	if gone {
		out = "deleted, answer lost"
	}
	apitest.DeleteOn(t, s.healthy, s.tok, c.key)
	apitest.AssertPair(t, s.healthy, s.m.AppKey, c.value, false)
	return out
}

// settleExchange: a retry gets tokens.
func settleExchange(s *scene, c call) string {
	out := "no tokens"
	if apitest.AttrS(apitest.KeyRecord(s.t, s.m.SecretKeyID), "last_used") == s.clock.Now().Format(time.RFC3339) {
		out = "refresh token stored, answer lost"
	}
	if r := s.send(s.healthy, c); r.Status != http.StatusOK {
		s.t.Fatalf("retry: %d %s", r.Status, r.Raw)
	}
	return out
}

// settleRefresh: the refresh token was rotated entirely or not at all. Not
// rotated, a retry refreshes it; rotated (the answer was lost), presenting
// it again is a reuse, which revokes its family, as for any reuse.
func settleRefresh(s *scene, c call) string {
	t := s.t
	rotated := apitest.AttrS(apitest.RefreshItem(t, c.rt), "rotated_at") != ""
	r := s.send(s.healthy, c)
	switch {
	case !rotated && r.Status != http.StatusOK:
		t.Fatalf("retry: %d %s", r.Status, r.Raw)
	case rotated && (r.Status != http.StatusBadRequest || r.Raw != apitest.WantInvalidRefresh):
		t.Fatalf("retry of a rotated token: %d %s", r.Status, r.Raw)
	case rotated:
		return "rotated, answer lost; retry is a reuse: family revoked"
	}
	return "not rotated"
}

// settleRevoke: the family was revoked entirely or not at all, and a retry
// revokes it.
func settleRevoke(s *scene, c call) string {
	t := s.t
	out := "not revoked"
	if apitest.AttrS(apitest.RefreshItem(t, c.rt), "revoked_at") != "" {
		out = "revoked, answer lost"
	}
	if r := s.send(s.healthy, c); r.Status != http.StatusOK {
		t.Fatalf("retry: %d %s", r.Status, r.Raw)
	}
	if r := apitest.RefreshJSONOn(t, s.healthy, c.rt); r.Status != http.StatusBadRequest || r.Raw != apitest.WantInvalidRefresh {
		t.Fatalf("refresh after the revocation: %d %s", r.Status, r.Raw)
	}
	return out
}
