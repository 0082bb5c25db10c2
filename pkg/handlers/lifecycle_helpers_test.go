package handlers_test

import (
	"context"
	"encoding/hex"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
)

// testClock is a settable clock shared by every service of a stack, so that
// tests can move time for expiry and grace periods.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock starts at the current whole second.
func newClock() *testClock { return &testClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// stackAt is the whole handler stack with its clock at c.
func stackAt(c *testClock) http.Handler { return deps(c.Now).All() }

// clockedMerchant is a fresh merchant and its access token on a stack whose
// clock the test moves.
func clockedMerchant(t *testing.T) (*testClock, http.Handler, merchant, string) {
	t.Helper()
	clk := newClock()
	h := stackAt(clk)
	m := newMerchant(t)
	return clk, h, m, tokenOn(t, h, m)
}

// mustCreateKey creates a key through h and returns the 201 response.
func mustCreateKey(t *testing.T, h http.Handler, tok, body string) response {
	t.Helper()
	r := do(t, h, "POST", "/v1/api-keys", bearer(tok), body)
	if r.Status != 201 {
		t.Fatalf("create %s: %d %s", body, r.Status, r.Raw)
	}
	return r
}

// str returns a string member of a body ("" when absent or not a string).
func str(r response, name string) string {
	s, _ := r.Body[name].(string)
	return s
}

// members returns a JSON object's member names, sorted.
func members(obj map[string]any) []string {
	out := make([]string, 0, len(obj))
	for k := range obj {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tableItem reads one item straight from the table (strongly consistent).
func tableItem(t *testing.T, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := env.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(env.Config.TableName),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk},
			"sk": &types.AttributeValueMemberS{Value: sk},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// keyRecord reads a key's record from the table.
func keyRecord(t *testing.T, id string) map[string]types.AttributeValue {
	t.Helper()
	return tableItem(t, "KEY#"+id, "META")
}

// digestLookup reads the lookup item of a key value (nil when absent).
func digestLookup(t *testing.T, value string) map[string]types.AttributeValue {
	t.Helper()
	d := apikey.DigestOf(value)
	return tableItem(t, "DIGEST#"+hex.EncodeToString(d[:]), "DIGEST")
}

// attrS and attrBool read item attributes ("" / false when absent).
func attrS(item map[string]types.AttributeValue, name string) string {
	v, _ := item[name].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

func attrBool(item map[string]types.AttributeValue, name string) (value, present bool) {
	v, ok := item[name].(*types.AttributeValueMemberBOOL)
	if !ok {
		return false, false
	}
	return v.Value, true
}

func attrN(item map[string]types.AttributeValue, name string) string {
	v, _ := item[name].(*types.AttributeValueMemberN)
	if v == nil {
		return ""
	}
	return v.Value
}
