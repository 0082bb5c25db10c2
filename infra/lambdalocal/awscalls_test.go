package lambdalocal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/dynamostore"
)

// awsCalls records the IAM actions behind the AWS calls a function makes,
// through reverse proxies placed in front of the emulators, and each
// DynamoDB item access as IAM's conditions see it.
type awsCalls struct {
	mu       sync.Mutex
	seen     map[string]bool
	accesses map[string]samtemplate.ItemAccess // by their rendering, once each
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
	var accesses []samtemplate.ItemAccess
	if service == "dynamodb" {
		accesses = itemAccesses(op, body)
		actions = actions[:0]
		for _, acc := range accesses {
			actions = append(actions, acc.Action)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen, a.accesses = map[string]bool{}, map[string]samtemplate.ItemAccess{}
	}
	for _, act := range actions {
		a.seen[act] = true
	}
	for _, acc := range accesses {
		a.accesses[fmt.Sprint(acc)] = acc
	}
}

// itemRequest is what an item operation, or an item of a transaction,
// names: its table or index, its key or item, and its expressions.
type itemRequest struct {
	TableName, IndexName     string
	Key, Item                map[string]map[string]any
	Keys                     []map[string]map[string]any // BatchGetItem
	UpdateExpression         string
	ConditionExpression      string
	ProjectionExpression     string
	KeyConditionExpression   string
	FilterExpression         string
	ExpressionAttributeNames map[string]string
}

// itemAccesses maps one DynamoDB call to the item accesses IAM authorizes:
// one per table of a batch, one per item of a transaction (as its own
// operation), else the call itself.
func itemAccesses(op string, body []byte) []samtemplate.ItemAccess {
	switch op {
	case "TransactWriteItems", "TransactGetItems":
		var tx struct{ TransactItems []map[string]itemRequest }
		_ = json.Unmarshal(body, &tx)
		var out []samtemplate.ItemAccess
		for _, item := range tx.TransactItems {
			for kind, r := range item {
				out = append(out, r.access("dynamodb:"+map[string]string{
					"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
					"ConditionCheck": "ConditionCheckItem", "Get": "GetItem",
				}[kind]))
			}
		}
		return out
	case "BatchGetItem":
		var batch struct{ RequestItems map[string]itemRequest }
		_ = json.Unmarshal(body, &batch)
		var out []samtemplate.ItemAccess
		for _, r := range batch.RequestItems {
			out = append(out, r.access("dynamodb:BatchGetItem"))
		}
		return out
	}
	var r itemRequest
	_ = json.Unmarshal(body, &r)
	return []samtemplate.ItemAccess{r.access("dynamodb:" + op)}
}

// access is the request as IAM's DynamoDB condition keys see it. The
// partition of a Query is not read from its key condition (left unknown);
// a read without a projection names no attribute list (unknown too).
func (r itemRequest) access(action string) samtemplate.ItemAccess {
	a := samtemplate.ItemAccess{Action: action, Resource: "Fn::GetAtt Table.Arn"}
	if r.TableName == env.Config.AuditTableName {
		a.Resource = "Fn::GetAtt AuditTable.Arn"
	}
	if r.IndexName != "" {
		a.Resource = "Fn::Sub ${Table.Arn}/index/" + r.IndexName
	}
	keys := r.Keys
	if r.Key != nil {
		keys = append(keys, r.Key)
	}
	if r.Item != nil {
		keys = append(keys, r.Item)
	}
	attrs := map[string]bool{}
	for _, k := range keys {
		if pk, ok := k[dynamostore.AttrPK]["S"].(string); ok {
			a.LeadingKeys = append(a.LeadingKeys, pk)
		}
		for name := range k {
			attrs[name] = true
		}
	}
	exprs := []string{r.UpdateExpression, r.ConditionExpression, r.ProjectionExpression, r.KeyConditionExpression, r.FilterExpression}
	for _, e := range exprs {
		for _, name := range samtemplate.ExpressionAttributes(e, r.ExpressionAttributeNames) {
			attrs[name] = true
		}
	}
	for _, name := range r.ExpressionAttributeNames {
		attrs[name] = true
	}
	read := action == "dynamodb:GetItem" || action == "dynamodb:BatchGetItem" || action == "dynamodb:Query"
	if !read || r.ProjectionExpression != "" {
		a.Attributes = slices.Sorted(maps.Keys(attrs))
	}
	return a
}

// itemAccesses lists the recorded DynamoDB item accesses.
func (a *awsCalls) itemAccesses() []samtemplate.ItemAccess {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Collect(maps.Values(a.accesses))
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
