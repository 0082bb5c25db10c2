package apitest

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// fatalRecorder stands in for a test so that a check's failure can be
// observed: Fatalf records the message and ends the check.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *fatalRecorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// failure runs check and returns its failure message, "" when it passed.
func failure(t *testing.T, check func(testing.TB)) string {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.msg
}

// TestInvariantsCatchHalfWrites: the checks pass on what the routes write,
// and fail on each state that only a write applied in part leaves.
func TestInvariantsCatchHalfWrites(t *testing.T) {
	clk := NewClock()
	h := StackAt(clk)
	m := NewMerchant(t)
	tok := TokenOn(t, h, m)
	clk.Advance(2 * time.Second)
	rt := Str(MustExchangeOn(t, h, m.AppKey, m.AppSecret), "refreshToken")
	clk.Advance(2 * time.Second)
	if r := RefreshJSONOn(t, h, rt); r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	k := MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"rolled","type":"secret","scopes":["charges:read"]}`)
	RollOn(t, h, tok, Str(k, "id"), `{"grace_seconds":60}`)
	if r := Do(t, h, "POST", "/v1/api-keys", WithIdempotencyKey(tok, NewIdempotencyKey()), `{"mid":"`+m.MID+`","name":"idem","type":"public"}`); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}

	tbl := ReadTable(t)
	if msg := failure(t, func(tb testing.TB) { tbl.AssertInvariants(tb, m.MID) }); msg != "" {
		t.Fatalf("the routes' own writes fail the checks: %s", msg)
	}

	// find returns the primary key of one of m's items whose sort key is
	// sk and that passes ok.
	find := func(sk string, ok func(Item) bool) [2]string {
		for pk, it := range tbl {
			if AttrS(it, "sk") == sk && AttrS(it, "mid") == m.MID && ok(it) {
				return pk
			}
		}
		t.Fatalf("no %s item to alter", sk)
		return [2]string{}
	}
	first := func(Item) bool { return true }
	refreshed := AttrS(tbl[find("REFRESH", func(it Item) bool { return AttrS(it, "rotated_at") != "" })], "family")
	secretRecord := [2]string{"KEY#" + m.SecretKeyID, "META"}
	set := func(it Item, name string, v types.AttributeValue) Item {
		c := maps.Clone(it)
		c[name] = v
		return c
	}
	unset := func(c Table, k [2]string, name string) {
		c[k] = maps.Clone(c[k])
		delete(c[k], name)
	}
	tests := []struct {
		name  string
		alter func(Table)
		want  string
	}{
		{"a key without its digest lookup", func(c Table) {
			delete(c, find("DIGEST", func(it Item) bool { return AttrS(it, "key_id") == m.SecretKeyID }))
		}, "no digest lookup"},
		{"a key without its sealed value", func(c Table) { delete(c, [2]string{"KEY#" + m.SecretKeyID, "VALUE"}) }, "no sealed value"},
		{"a sealed value of another value", func(c Table) {
			c[[2]string{"KEY#" + m.SecretKeyID, "VALUE"}] = c[[2]string{"KEY#" + m.PublicKeyID, "VALUE"}]
		}, "sealed value"},
		{"a revoked key that still has its lookup", func(c Table) {
			c[secretRecord] = set(c[secretRecord], "revoked", &types.AttributeValueMemberBOOL{Value: true})
		}, "still has a digest lookup"},
		{"a rolled key without the lookup of its old value", func(c Table) {
			delete(c, find("DIGEST", func(it Item) bool { return AttrS(it, "valid_until") != "" }))
		}, "grace period"},
		{"a lookup of no live value", func(c Table) {
			l := find("DIGEST", func(it Item) bool { return AttrS(it, "key_id") == m.SecretKeyID })
			c[[2]string{"DIGEST#00", "DIGEST"}] = set(c[l], "digest", &types.AttributeValueMemberB{Value: []byte{0}})
		}, "not a live value"},
		{"a rotation without its successor", func(c Table) {
			delete(c, find("REFRESH", func(it Item) bool { return AttrS(it, "family") == refreshed && AttrS(it, "rotated_at") == "" }))
		}, "not rotated, want 1"},
		{"a successor without its rotation", func(c Table) {
			unset(c, find("REFRESH", func(it Item) bool { return AttrS(it, "rotated_at") != "" }), "rotated_at")
		}, "not rotated, want 1"},
		{"a revoked token without its family's marker", func(c Table) {
			r := find("REFRESH", first)
			c[r] = set(c[r], "revoked_at", &types.AttributeValueMemberS{Value: "2030-01-01T00:00:00Z"})
		}, "no revocation marker"},
		{"last_used without the refresh token issued with it", func(c Table) {
			c[secretRecord] = set(c[secretRecord], "last_used", &types.AttributeValueMemberS{Value: "2030-01-01T00:00:00Z"})
		}, "no refresh token issued then"},
		{"a refresh token without last_used on its keys", func(c Table) {
			unset(c, secretRecord, "last_used")
		}, "last used"},
		{"a done idempotency claim naming no key", func(c Table) {
			r := find("IDEM", first)
			c[r] = set(c[r], "key_id", &types.AttributeValueMemberS{Value: "key_gone"})
		}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := maps.Clone(tbl)
			tt.alter(c)
			if msg := failure(t, func(tb testing.TB) { c.AssertInvariants(tb, m.MID) }); !strings.Contains(msg, tt.want) {
				t.Fatalf("got %q, want a failure saying %q", msg, tt.want)
			}
		})
	}
}
