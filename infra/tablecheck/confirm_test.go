package tablecheck_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/infra/tablecheck"
)

// The SDK client is a Reader; a Reader has no method that writes.
var _ tablecheck.Reader = (*dynamodb.Client)(nil)

// moving is a table that changes between the scan and the reads after it:
// Scan sees scanned, GetItem sees later.
type moving struct {
	scanned, later []tablecheck.Item
	gets           int
}

func (m *moving) Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return &dynamodb.ScanOutput{Items: m.scanned}, nil
}

func (m *moving) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	m.gets++
	for _, it := range m.later {
		if it["pk"].(*types.AttributeValueMemberS).Value == in.Key["pk"].(*types.AttributeValueMemberS).Value &&
			it["sk"].(*types.AttributeValueMemberS).Value == in.Key["sk"].(*types.AttributeValueMemberS).Value {
			return &dynamodb.GetItemOutput{Item: it}, nil
		}
	}
	return &dynamodb.GetItemOutput{}, nil
}

// keyItems are a live public key's record, lookup item and sealed value.
func keyItems(id, digest string) (record, lookup, value tablecheck.Item) {
	b := func(v string) types.AttributeValue { return &types.AttributeValueMemberB{Value: mustHex(v)} }
	scopes := &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
	record = tablecheck.Item{
		"pk": s("KEY#" + id), "sk": s("META"), "gsi1pk": s("MID#mid_1"), "gsi1sk": s(id),
		"id": s(id), "mid": s("mid_1"), "name": s("k"), "type": s("public"), "scopes": scopes,
		"revoked": &types.AttributeValueMemberBOOL{}, "created_at": s("2026-01-01T00:00:00Z"),
		"last_four": s("abcd"), "digest": b(digest), "generation": n("1"),
	}
	lookup = tablecheck.Item{
		"pk": s("DIGEST#" + digest), "sk": s("DIGEST"), "digest": b(digest), "key_id": s(id),
		"mid": s("mid_1"), "type": s("public"), "scopes": scopes, "generation": n("1"),
	}
	value = tablecheck.Item{"pk": s("KEY#" + id), "sk": s("VALUE"), "edk": b("01"), "nonce": b("02"), "ct": b("03")}
	return record, lookup, value
}

func TestViolationsAreReadAgainBeforeTheyAreReported(t *testing.T) {
	const id = "key_01ARZ3NDEKTSV4RRFFQ69G5FAV"
	d := digestOf("pk_test_value")
	record, lookup, value := keyItems(id, d)
	tests := []struct {
		name      string
		later     []tablecheck.Item
		want      []string
		rechecked int
	}{
		// The key was created while the scan ran: the scan saw its record,
		// not yet its lookup item.
		{"the item appeared meanwhile", []tablecheck.Item{record, lookup, value}, nil, 1},
		{"the item is still missing", []tablecheck.Item{record, value}, []string{tablecheck.RuleDigestMissing}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := &moving{scanned: []tablecheck.Item{record, value}, later: tt.later}
			rep, err := (&tablecheck.Checker{Client: table, Table: "t"}).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range rep.Violations {
				got = append(got, v.Rule)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") || rep.Rechecked != tt.rechecked {
				t.Fatalf("violations %v (rechecked %d), want %v (%d)", got, rep.Rechecked, tt.want, tt.rechecked)
			}
			if table.gets == 0 {
				t.Fatal("nothing was read again")
			}
		})
	}
}

func TestReportsShortenDigests(t *testing.T) {
	d := digestOf("sk_test_value")
	_, lookup, _ := keyItems("key_01ARZ3NDEKTSV4RRFFQ69G5FAV", d)
	rep, err := (&tablecheck.Checker{Client: &moving{scanned: []tablecheck.Item{lookup}, later: []tablecheck.Item{lookup}}, Table: "t"}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Write(&out)
	if len(rep.Violations) != 1 || rep.Violations[0].Rule != tablecheck.RuleDigestOrphan {
		t.Fatalf("violations %v", rep.Violations)
	}
	if strings.Contains(out.String(), d) || !strings.Contains(out.String(), "DIGEST#"+d[:12]+"…") {
		t.Fatalf("the report shows the whole digest, or not its start:\n%s", out.String())
	}
}
