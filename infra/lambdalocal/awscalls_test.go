package lambdalocal_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// awsCalls records the IAM actions behind the AWS calls a function makes,
// through reverse proxies placed in front of the emulators.
type awsCalls struct {
	mu   sync.Mutex
	seen map[string]bool
}

// proxy starts a recording proxy to target for an AWS service ("dynamodb"
// or "kms") and returns its URL; it stops with the test.
func (a *awsCalls) proxy(t *testing.T, service, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		a.record(service, r.Header.Get("X-Amz-Target"), body)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// record maps one call to the IAM actions that authorize it. An X-Amz-Target
// is "DynamoDB_20120810.<Operation>" or "TrentService.<Operation>". A
// transaction is authorized per item, by the item's own operation.
func (a *awsCalls) record(service, target string, body []byte) {
	_, op, ok := strings.Cut(target, ".")
	if !ok {
		op = "<unknown operation " + target + ">"
	}
	actions := []string{service + ":" + op}
	switch op {
	case "TransactWriteItems", "TransactGetItems":
		var tx struct {
			TransactItems []map[string]json.RawMessage
		}
		_ = json.Unmarshal(body, &tx)
		actions = actions[:0]
		for _, item := range tx.TransactItems {
			for kind := range item {
				actions = append(actions, "dynamodb:"+map[string]string{
					"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
					"ConditionCheck": "ConditionCheckItem", "Get": "GetItem",
				}[kind])
			}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	for _, act := range actions {
		a.seen[act] = true
	}
}

// actions lists the recorded IAM actions, sorted.
func (a *awsCalls) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.seen))
	for act := range a.seen {
		out = append(out, act)
	}
	slices.Sort(out)
	return out
}
