package tablecheck_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/infra/tablecheck"
	"github.com/flexfactor/credplane/pkg/apitest"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// traffic is what real requests through every route left in the table.
type traffic struct {
	m, other apitest.Merchant
	// plain is a secret key never used; public a public key; graced a key
	// rolled with a grace period (value: its old one); rolled one rolled
	// without; deleted a deleted key.
	plain, public, graced, deleted key
	gracedOld                      string
	// idem is the idempotency record of a create that was replayed, and
	// idemKey the key it created.
	idem    tablecheck.Ref
	idemKey string
	// single is the only token of a fresh family; reused a rotated token
	// that came back (its family is revoked); revoked one revoked by RFC 7009.
	single, reused, revoked string
}

type key struct{ id, value string }

func digestOf(s string) string {
	d := sha256.Sum256([]byte(s))
	return hex.EncodeToString(d[:])
}

func digestRef(value string) tablecheck.Ref {
	return tablecheck.Ref{PK: "DIGEST#" + digestOf(value), SK: "DIGEST"}
}
func recordRef(id string) tablecheck.Ref { return tablecheck.Ref{PK: "KEY#" + id, SK: "META"} }
func valueRef(id string) tablecheck.Ref  { return tablecheck.Ref{PK: "KEY#" + id, SK: "VALUE"} }
func refreshRef(rt string) tablecheck.Ref {
	return tablecheck.Ref{PK: "REFRESH#" + digestOf(rt), SK: "REFRESH"}
}
func onboardRef(mid string) tablecheck.Ref { return tablecheck.Ref{PK: "MID#" + mid, SK: "ONBOARD"} }

// drive sends real requests through every route of the whole stack.
func drive(t *testing.T) traffic {
	h := apitest.App()
	var tr traffic
	tr.m, tr.other = apitest.NewMerchant(t), apitest.NewMerchant(t)
	ex := apitest.Exchange(t, tr.m)
	tok := apitest.Str(ex, "accessToken")
	tr.single = apitest.Str(ex, "refreshToken")
	create := func(body string) key {
		r := apitest.MustCreateKey(t, h, tok, `{"mid":"`+tr.m.MID+`","name":"k",`+body+`}`)
		return key{apitest.Str(r, "id"), apitest.Str(r, "value")}
	}
	tr.plain = create(`"type":"secret","scopes":["charges:read"]`)
	tr.public = create(`"type":"public"`)
	create(`"type":"tokenization"`)
	tr.graced = create(`"type":"secret","scopes":["charges:read"]`)
	tr.gracedOld = tr.graced.value
	tr.graced.value = apitest.RollOn(t, h, tok, tr.graced.id, `{"grace_seconds":3600}`)
	rolled := create(`"type":"public"`)
	apitest.RollOn(t, h, tok, rolled.id, "")
	tr.deleted = create(`"type":"secret","scopes":["charges:read"]`)
	apitest.DeleteOn(t, h, tok, tr.deleted.id)
	both := create(`"type":"secret","scopes":["charges:read"]`)
	apitest.RollOn(t, h, tok, both.id, `{"grace_seconds":600}`)
	apitest.DeleteOn(t, h, tok, both.id)

	idem := apitest.NewIdempotencyKey()
	body := `{"mid":"` + tr.m.MID + `","name":"idem","type":"public"}`
	for range 2 {
		r := apitest.Do(t, h, "POST", "/v1/api-keys", apitest.WithIdempotencyKey(tok, idem), body)
		if r.Status != 201 {
			t.Fatalf("idempotent create: %d %s", r.Status, r.Raw)
		}
		tr.idemKey = apitest.Str(r, "id")
	}
	tr.idem = tablecheck.Ref{PK: "IDEM#" + tr.m.MID + "#" + tr.m.SecretKeyID + "#" + digestOf(idem), SK: "IDEM"}
	if r := apitest.Do(t, h, "GET", "/v1/api-keys?mid="+tr.m.MID, apitest.Bearer(tok), ""); r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Raw)
	}

	tr.reused = apitest.RefreshFor(t, tr.m)
	if r := apitest.RefreshJSON(t, tr.reused); r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	if r := apitest.RefreshJSON(t, tr.reused); r.Status != 400 {
		t.Fatalf("reuse: %d %s", r.Status, r.Raw)
	}
	tr.revoked = apitest.RefreshFor(t, tr.m)
	basic := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(tr.m.AppKey, tr.m.AppSecret))
	if r := apitest.Revoke(t, basic, url.Values{"token": {tr.revoked}}); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	return tr
}

func run(t *testing.T) *tablecheck.Report {
	t.Helper()
	env := apitest.Env()
	rep, err := (&tablecheck.Checker{Client: env.Clients.DynamoDB, Table: env.Config.TableName, Segments: 2}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// found is a violation as the tests name it.
type found struct {
	Rule string
	Item tablecheck.Ref
}

func foundIn(rep *tablecheck.Report) []found {
	out := make([]found, len(rep.Violations))
	for i, v := range rep.Violations {
		out[i] = found{v.Rule, v.Item}
	}
	return out
}

func sameFound(a, b []found) bool {
	key := func(f found) string { return f.Rule + " " + f.Item.PK + " " + f.Item.SK }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, f := range a {
		ka[i] = key(f)
	}
	for i, f := range b {
		kb[i] = key(f)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// table is raw access to the stage's table, for corrupting it.
type table struct{ t *testing.T }

func (tb table) ddb() *dynamodb.Client { return apitest.Env().Clients.DynamoDB }
func (tb table) name() *string         { return aws.String(apitest.Env().Config.TableName) }

func (tb table) get(r tablecheck.Ref) tablecheck.Item {
	tb.t.Helper()
	return apitest.TableItem(tb.t, r.PK, r.SK)
}

func (tb table) put(it tablecheck.Item) {
	tb.t.Helper()
	if _, err := tb.ddb().PutItem(context.Background(), &dynamodb.PutItemInput{TableName: tb.name(), Item: it}); err != nil {
		tb.t.Fatal(err)
	}
}

func (tb table) del(r tablecheck.Ref) {
	tb.t.Helper()
	_, err := tb.ddb().DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: tb.name(), Key: tablecheck.Item{"pk": s(r.PK), "sk": s(r.SK)}})
	if err != nil {
		tb.t.Fatal(err)
	}
}

// set changes (or, with nil, removes) attributes of an item.
func (tb table) set(r tablecheck.Ref, attrs map[string]types.AttributeValue) {
	tb.t.Helper()
	it := tb.get(r)
	if it == nil {
		tb.t.Fatalf("no item %s", r)
	}
	for k, v := range attrs {
		if v == nil {
			delete(it, k)
		} else {
			it[k] = v
		}
	}
	tb.put(it)
}

// copyTo puts a copy of item from at another key.
func (tb table) copyTo(from, to tablecheck.Ref, attrs map[string]types.AttributeValue) {
	tb.t.Helper()
	it := maps.Clone(tb.get(from))
	it["pk"], it["sk"] = s(to.PK), s(to.SK)
	maps.Copy(it, attrs)
	tb.put(it)
}

// keep saves items and puts them back as they were when the test ends.
func (tb table) keep(refs ...tablecheck.Ref) {
	saved := map[tablecheck.Ref]tablecheck.Item{}
	for _, r := range refs {
		saved[r] = tb.get(r)
	}
	tb.t.Cleanup(func() {
		for r, it := range saved {
			if it == nil {
				tb.del(r)
			} else {
				tb.put(it)
			}
		}
	})
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func randomDigest() string { return digestOf(rand.Text()) }

func TestCheckerOnRealTraffic(t *testing.T) {
	tr := drive(t)
	rep := run(t)
	var out strings.Builder
	rep.Write(&out)
	if len(rep.Violations) > 0 {
		t.Fatalf("violations after real traffic:\n%s", out.String())
	}
	t.Log(out.String())
	for _, kind := range tablecheck.Kinds {
		if got := rep.Counts.Kind[kind]; (got == 0) != (kind == tablecheck.KindUnknown) {
			t.Errorf("%s: %d items checked", kind, got)
		}
	}
	if got := rep.Counts.State[tablecheck.KindDigest]["previous value"]; got != 1 {
		t.Errorf("previous values in grace: %d, want 1", got)
	}

	prevDigest := digestRef(tr.gracedOld)
	junk := tablecheck.Ref{PK: "JUNK#1", SK: "X"}
	tests := []struct {
		name    string
		corrupt func(tb table)
		want    []found
	}{{
		name: "a key record is gone",
		corrupt: func(tb table) {
			tb.keep(recordRef(tr.plain.id))
			tb.del(recordRef(tr.plain.id))
		},
		want: []found{{tablecheck.RuleDigestOrphan, digestRef(tr.plain.value)}, {tablecheck.RuleValueOrphan, valueRef(tr.plain.id)}},
	}, {
		name: "a key record lost its merchant index",
		corrupt: func(tb table) {
			tb.keep(recordRef(tr.plain.id))
			tb.set(recordRef(tr.plain.id), map[string]types.AttributeValue{"gsi1pk": nil})
		},
		want: []found{{tablecheck.RuleMalformed, recordRef(tr.plain.id)}},
	}, {
		name: "a key record is marked revoked with no time",
		corrupt: func(tb table) {
			tb.keep(recordRef(tr.plain.id))
			tb.set(recordRef(tr.plain.id), map[string]types.AttributeValue{"revoked": &types.AttributeValueMemberBOOL{Value: true}})
		},
		want: []found{{tablecheck.RuleRecordState, recordRef(tr.plain.id)}, {tablecheck.RuleDigestRevoked, digestRef(tr.plain.value)}},
	}, {
		name: "a live key's lookup item is gone",
		corrupt: func(tb table) {
			tb.keep(digestRef(tr.plain.value))
			tb.del(digestRef(tr.plain.value))
		},
		want: []found{{tablecheck.RuleDigestMissing, recordRef(tr.plain.id)}},
	}, {
		name: "the lookup of a value in its grace period is gone",
		corrupt: func(tb table) {
			tb.keep(prevDigest)
			tb.del(prevDigest)
		},
		want: []found{{tablecheck.RulePreviousDigestMissing, recordRef(tr.graced.id)}},
	}, {
		name: "the lookup of a value in its grace period never ends",
		corrupt: func(tb table) {
			tb.keep(prevDigest)
			tb.set(prevDigest, map[string]types.AttributeValue{"valid_until": nil, "ttl": nil})
		},
		want: []found{{tablecheck.RuleDigestMismatch, prevDigest}},
	}, {
		name: "a deleted key's lookup item is back",
		corrupt: func(tb table) {
			tb.keep(digestRef(tr.deleted.value))
			tb.copyTo(digestRef(tr.plain.value), digestRef(tr.deleted.value), map[string]types.AttributeValue{
				"key_id": s(tr.deleted.id), "digest": &types.AttributeValueMemberB{Value: mustHex(digestOf(tr.deleted.value))},
			})
		},
		want: []found{{tablecheck.RuleDigestRevoked, digestRef(tr.deleted.value)}},
	}, {
		name: "a lookup item names a key that has other values",
		corrupt: func(tb table) {
			d := randomDigest()
			stray := tablecheck.Ref{PK: "DIGEST#" + d, SK: "DIGEST"}
			tb.keep(stray)
			tb.copyTo(digestRef(tr.plain.value), stray, map[string]types.AttributeValue{"digest": &types.AttributeValueMemberB{Value: mustHex(d)}})
		},
		want: []found{{tablecheck.RuleDigestStray, tablecheck.Ref{}}},
	}, {
		name: "a lookup item grants more scopes than its key",
		corrupt: func(tb table) {
			tb.keep(digestRef(tr.plain.value))
			tb.set(digestRef(tr.plain.value), map[string]types.AttributeValue{"scopes": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("charges:read"), s("api-keys:write")}}})
		},
		want: []found{{tablecheck.RuleDigestMismatch, digestRef(tr.plain.value)}},
	}, {
		name: "a lookup item carries another generation",
		corrupt: func(tb table) {
			tb.keep(digestRef(tr.graced.value))
			tb.set(digestRef(tr.graced.value), map[string]types.AttributeValue{"generation": n("1")})
		},
		want: []found{{tablecheck.RuleDigestMismatch, digestRef(tr.graced.value)}},
	}, {
		name: "a sealed value of no key",
		corrupt: func(tb table) {
			ghost := "key_01ARZ3NDEKTSV4RRFFQ69G5FAV"
			tb.keep(valueRef(ghost))
			tb.copyTo(valueRef(tr.public.id), valueRef(ghost), nil)
		},
		want: []found{{tablecheck.RuleValueOrphan, valueRef("key_01ARZ3NDEKTSV4RRFFQ69G5FAV")}},
	}, {
		name: "a public key's value is gone",
		corrupt: func(tb table) {
			tb.keep(valueRef(tr.public.id))
			tb.del(valueRef(tr.public.id))
		},
		want: []found{{tablecheck.RuleValueMissing, recordRef(tr.public.id)}},
	}, {
		name: "a secret's sealed value never expires",
		corrupt: func(tb table) {
			tb.keep(valueRef(tr.plain.id))
			tb.set(valueRef(tr.plain.id), map[string]types.AttributeValue{"ttl": nil})
		},
		want: []found{{tablecheck.RuleValueTTL, valueRef(tr.plain.id)}},
	}, {
		name: "a refresh token names another merchant's key",
		corrupt: func(tb table) {
			tb.keep(refreshRef(tr.single))
			tb.set(refreshRef(tr.single), map[string]types.AttributeValue{"secret_key_id": s(tr.other.SecretKeyID)})
		},
		want: []found{{tablecheck.RuleRefreshKey, refreshRef(tr.single)}},
	}, {
		name: "a refresh token outlives its family",
		corrupt: func(tb table) {
			tb.keep(refreshRef(tr.single))
			it := tb.get(refreshRef(tr.single))
			tb.set(refreshRef(tr.single), map[string]types.AttributeValue{"ttl": n(apitest.AttrN(it, "ttl") + "0")})
		},
		want: []found{{tablecheck.RuleRefreshTimes, refreshRef(tr.single)}},
	}, {
		name: "a family has two tokens that can be rotated",
		corrupt: func(tb table) {
			twin := tablecheck.Ref{PK: "REFRESH#" + randomDigest(), SK: "REFRESH"}
			tb.keep(twin)
			tb.copyTo(refreshRef(tr.single), twin, nil)
		},
		want: []found{{tablecheck.RuleFamilyIncoherent, tablecheck.Ref{}}},
	}, {
		name: "a revoked family lost its marker",
		corrupt: func(tb table) {
			fam := tablecheck.Ref{PK: "FAMILY#" + apitest.AttrS(tb.get(refreshRef(tr.revoked)), "family"), SK: "REVOKED"}
			tb.keep(fam)
			tb.del(fam)
		},
		want: []found{{tablecheck.RuleFamilyUnmarked, refreshRef(tr.revoked)}},
	}, {
		name: "a family marker with no expiry",
		corrupt: func(tb table) {
			fam := tablecheck.Ref{PK: "FAMILY#" + apitest.AttrS(tb.get(refreshRef(tr.reused)), "family"), SK: "REVOKED"}
			tb.keep(fam)
			tb.set(fam, map[string]types.AttributeValue{"ttl": nil})
		},
		want: []found{{tablecheck.RuleMalformed, tablecheck.Ref{}}},
	}, {
		name: "an idempotency record names a key that is gone",
		corrupt: func(tb table) {
			tb.keep(tr.idem)
			tb.set(tr.idem, map[string]types.AttributeValue{"key_id": s("key_01ARZ3NDEKTSV4RRFFQ69G5FAV")})
		},
		want: []found{{tablecheck.RuleIdemKey, tr.idem}},
	}, {
		name: "an idempotency record of a public key",
		corrupt: func(tb table) {
			bad := tablecheck.Ref{PK: "IDEM#" + tr.m.MID + "#" + tr.m.PublicKeyID + "#" + randomDigest(), SK: "IDEM"}
			tb.keep(bad)
			tb.copyTo(tr.idem, bad, map[string]types.AttributeValue{"caller_key_id": s(tr.m.PublicKeyID)})
		},
		want: []found{{tablecheck.RuleIdemCaller, tablecheck.Ref{}}},
	}, {
		name: "an onboarding claim names the public key as the secret one",
		corrupt: func(tb table) {
			tb.keep(onboardRef(tr.m.MID))
			tb.set(onboardRef(tr.m.MID), map[string]types.AttributeValue{"secret_key_id": s(tr.m.PublicKeyID)})
		},
		want: []found{{tablecheck.RuleOnboardKey, onboardRef(tr.m.MID)}},
	}, {
		name: "an item the service never writes",
		corrupt: func(tb table) {
			tb.keep(junk)
			tb.put(tablecheck.Item{"pk": s(junk.PK), "sk": s(junk.SK)})
		},
		want: []found{{tablecheck.RuleUnknownItem, junk}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.corrupt(table{t})
			rep := run(t)
			got := foundIn(rep)
			want := tt.want
			// A zero Ref stands for an item the case made up: take the
			// rule's item from what was found.
			for i, w := range want {
				if w.Item == (tablecheck.Ref{}) {
					for _, g := range got {
						if g.Rule == w.Rule {
							want[i].Item = g.Item
						}
					}
				}
			}
			if !sameFound(got, want) {
				var b strings.Builder
				rep.Write(&b)
				t.Fatalf("found %v, want %v\n%s", got, want, b.String())
			}
		})
	}
	if rep := run(t); len(rep.Violations) > 0 {
		t.Fatalf("violations once every item was put back: %v", rep.Violations)
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
