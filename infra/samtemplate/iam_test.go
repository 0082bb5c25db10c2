package samtemplate_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/dynamostore"
	"gopkg.in/yaml.v3"
)

// statements returns a function's inline IAM statements; each must allow.
func statements(t *testing.T, tpl *samtemplate.Template, fn string) []samtemplate.Statement {
	t.Helper()
	out, err := tpl.Statements(fn)
	if err != nil {
		// Managed policies and SAM policy templates grant more than the
		// code calls: only inline statements are allowed.
		t.Fatal(err)
	}
	for _, st := range out {
		if st.Effect != "Allow" {
			t.Errorf("%s: statement %s has Effect %s", fn, st.Sid, st.Effect)
		}
	}
	return out
}

// policyStatements reads a key policy's statements; each must allow.
func policyStatements(t *testing.T, where string, list *yaml.Node) []samtemplate.Statement {
	t.Helper()
	out := samtemplate.PolicyStatements(list)
	for _, st := range out {
		if st.Effect != "Allow" {
			t.Errorf("%s: statement %s has Effect %s", where, st.Sid, st.Effect)
		}
	}
	return out
}

// kmsKeyOf says which of the stack's KMS keys each KMS action is used on.
var kmsKeyOf = map[string]string{
	"kms:Sign":                            "SigningKey",
	"kms:GetPublicKey":                    "SigningKey",
	"kms:GenerateDataKey":                 "DataKey",
	"kms:GenerateDataKeyWithoutPlaintext": "DataKey",
	"kms:Decrypt":                         "DataKey",
	"kms:Encrypt":                         "DataKey",
}

// contextActions accept an encryption context, so their grants are
// conditioned on it; asymmetric operations (Sign, GetPublicKey) take none.
var contextActions = []string{"kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt", "kms:Encrypt"}

// tableConditions are the only conditions a table grant may carry: they
// narrow it to partitions (dynamodb:LeadingKeys) and attributes.
var tableConditions = map[string]string{
	"ForAllValues:StringLike":   samtemplate.CondLeadingKeys,
	"ForAllValues:StringEquals": samtemplate.CondAttributes,
}

func TestLeastPrivilegePerFunction(t *testing.T) {
	tpl := load(t)
	if got := tpl.Functions(); !equalSets(got, slices.Collect(maps.Keys(app.Permissions))) {
		t.Fatalf("template functions %v, app.Permissions %v", got, slices.Sorted(maps.Keys(app.Permissions)))
	}
	table := "Fn::GetAtt Table.Arn"
	auditTable := "Fn::GetAtt AuditTable.Arn"
	index := "Fn::Sub ${Table.Arn}/index/" + dynamostore.IndexGSI1
	for _, fn := range tpl.Functions() {
		t.Run(fn, func(t *testing.T) {
			var granted []string
			grants := map[string]int{}       // action -> statements granting it
			partitioned := map[string]bool{} // action -> every one of them names its partitions
			for _, st := range statements(t, tpl, fn) {
				granted = append(granted, st.Actions...)
				service, _, _ := strings.Cut(st.Actions[0], ":")
				onAudit := slices.Equal(st.Resources, []string{auditTable})
				for _, a := range st.Actions {
					if s, _, _ := strings.Cut(a, ":"); s != service {
						t.Errorf("statement %s mixes services: %v", st.Sid, st.Actions)
					}
					if onAudit {
						continue // the audit table is checked on its own below
					}
					grants[a]++
					partitioned[a] = (grants[a] == 1 || partitioned[a]) && st.LeadingKeyPatterns() != nil
				}
				switch {
				case service == "dynamodb" && onAudit:
					// Events are appended and read, never changed or removed.
					for _, a := range st.Actions {
						if a != "dynamodb:PutItem" && a != "dynamodb:Query" {
							t.Errorf("statement %s grants %s on the audit table: only PutItem and Query are allowed", st.Sid, a)
						}
					}
				case service == "dynamodb":
					want := []string{table}
					if (slices.Contains(st.Actions, "dynamodb:Query") || slices.Contains(st.Actions, "dynamodb:Scan")) && len(st.Resources) > 1 {
						want = append(want, index) // a Query on the GSI is authorized on the index's ARN
					}
					if !equalSets(st.Resources, want) {
						t.Errorf("statement %s: Resource %v, want %v", st.Sid, st.Resources, want)
					}
					for _, op := range samtemplate.Keys(st.Condition) {
						if keys := samtemplate.Keys(samtemplate.Get(st.Condition, op)); tableConditions[op] == "" || !slices.Equal(keys, []string{tableConditions[op]}) {
							t.Errorf("statement %s: condition %s on %v; a table grant is narrowed only by %v", st.Sid, op, keys, tableConditions)
						}
					}
				case service == "kms":
					key := kmsKeyOf[st.Actions[0]]
					for _, a := range st.Actions {
						if kmsKeyOf[a] == "" {
							t.Errorf("%s: which key is it called on? add it to kmsKeyOf", a)
						}
						if kmsKeyOf[a] != key {
							t.Errorf("statement %s mixes keys: %v", st.Sid, st.Actions)
						}
					}
					if want := []string{"Fn::GetAtt " + key + ".Arn"}; !slices.Equal(st.Resources, want) {
						t.Errorf("statement %s: Resource %v, want %v", st.Sid, st.Resources, want)
					}
					checkKMSCondition(t, st)
				case service == "secretsmanager":
					if want := []string{"Ref CursorSecret"}; !slices.Equal(st.Resources, want) {
						t.Errorf("statement %s: Resource %v, want %v", st.Sid, st.Resources, want)
					}
				default:
					t.Errorf("statement %s grants %s actions: the code calls none", st.Sid, service)
				}
			}
			want := app.Permissions[fn]
			for _, a := range want {
				// IAM's policy validator: "The action dynamodb:TransactWriteItems does not exist".
				if a == "dynamodb:TransactWriteItems" || a == "dynamodb:TransactGetItems" {
					t.Errorf("app.Permissions: %s is not an IAM action; grant each item's operation (PutItem, UpdateItem, ...)", a)
				}
			}
			if !equalSets(granted, want) {
				t.Errorf("granted %v, want exactly app.Permissions: %v", slices.Sorted(slices.Values(granted)), slices.Sorted(slices.Values(want)))
			}
			// An action is granted once, or split by partition among
			// statements that each name theirs.
			for a, n := range grants {
				if n > 1 && !partitioned[a] {
					t.Errorf("%s is granted by %d statements, not all of them narrowed to partitions", a, n)
				}
			}
		})
	}
}

// checkKMSCondition wants the grant of an action that takes an encryption
// context to require exactly the keys of the context the code uses, each
// present; and no condition on the others. Besides, the condition may have
// the operators in other (checked by the caller).
func checkKMSCondition(t *testing.T, st samtemplate.Statement, other ...string) {
	t.Helper()
	takesContext := slices.ContainsFunc(st.Actions, func(a string) bool { return slices.Contains(contextActions, a) })
	if !takesContext {
		if got := samtemplate.Keys(st.Condition); !equalSets(got, other) {
			t.Errorf("statement %s: %v take no encryption context; condition operators %v, want %v", st.Sid, st.Actions, got, other)
		}
		return
	}
	keys := slices.Sorted(maps.Keys(apikey.EncryptionContext("mid", "key")))
	if got := samtemplate.Strings(samtemplate.Get(st.Condition, "ForAllValues:StringEquals", "kms:EncryptionContextKeys")); !equalSets(got, keys) {
		t.Errorf("statement %s: kms:EncryptionContextKeys = %v, want ForAllValues:StringEquals %v", st.Sid, got, keys)
	}
	for _, k := range keys {
		// StringLike on a missing context key fails: this makes each key required.
		if got := samtemplate.Describe(samtemplate.Get(st.Condition, "StringLike", "kms:EncryptionContext:"+k)); got != "?*" {
			t.Errorf("statement %s: StringLike kms:EncryptionContext:%s = %s, want ?*", st.Sid, k, got)
		}
	}
	if got := samtemplate.Keys(st.Condition); !equalSets(got, append([]string{"ForAllValues:StringEquals", "StringLike"}, other...)) {
		t.Errorf("statement %s: condition operators %v", st.Sid, got)
	}
}

// tokenPartitions are the partitions (pk prefixes of pkg/dynamostore) the
// token function reaches, per action: it reads digest lookups, key records
// and refresh tokens; it writes refresh tokens, revoked-family markers,
// last_used on key records and each secret key's count of tokens; its
// transactions check families and keys.
var tokenPartitions = map[string][]string{
	"dynamodb:BatchGetItem":       {"DIGEST#*", "KEY#*"},
	"dynamodb:GetItem":            {"REFRESH#*"},
	"dynamodb:PutItem":            {"REFRESH#*", "FAMILY#*"},
	"dynamodb:UpdateItem":         {"REFRESH#*", "KEY#*", "RATE#*"},
	"dynamodb:ConditionCheckItem": {"FAMILY#*", "KEY#*"},
}

// tokenKeyRecordAttributes are all the token function's updates of a key
// record may name: the key, last_used (what it sets) and what the update's
// condition reads.
var tokenKeyRecordAttributes = []string{dynamostore.AttrPK, dynamostore.AttrSK, "last_used", "revoked", "generation", "previous_valid_until", "rolled_at"}

// tokenCountAttributes are all the token function's updates of a count of
// tokens may name: the key, the count and its expiry.
var tokenCountAttributes = []string{dynamostore.AttrPK, dynamostore.AttrSK, "count", dynamostore.AttrTTL}

func TestTokenFunctionReachesOnlyItsPartitions(t *testing.T) {
	tpl := load(t)
	sts := statements(t, tpl, app.TokenFunction)
	got := map[string][]string{}
	for _, st := range sts {
		if !strings.HasPrefix(st.Actions[0], "dynamodb:") || slices.Equal(st.Resources, []string{"Fn::GetAtt AuditTable.Arn"}) {
			continue // the audit table: appended to only (TestLeastPrivilegePerFunction)
		}
		if st.LeadingKeyPatterns() == nil {
			t.Errorf("statement %s: %v on every item of the table; want ForAllValues:StringLike dynamodb:LeadingKeys", st.Sid, st.Actions)
		}
		for _, a := range st.Actions {
			got[a] = append(got[a], st.LeadingKeyPatterns()...)
		}
		keyRecords := slices.Contains(st.LeadingKeyPatterns(), "KEY#*")
		if slices.Contains(st.Actions, "dynamodb:UpdateItem") && keyRecords && !equalSets(st.AttributeNames(), tokenKeyRecordAttributes) {
			t.Errorf("statement %s updates key records naming %v; want ForAllValues:StringEquals dynamodb:Attributes %v", st.Sid, st.AttributeNames(), tokenKeyRecordAttributes)
		}
		counts := slices.Contains(st.LeadingKeyPatterns(), "RATE#*")
		if slices.Contains(st.Actions, "dynamodb:UpdateItem") && counts && !equalSets(st.AttributeNames(), tokenCountAttributes) {
			t.Errorf("statement %s updates token counts naming %v; want ForAllValues:StringEquals dynamodb:Attributes %v", st.Sid, st.AttributeNames(), tokenCountAttributes)
		}
	}
	for a := range mergeKeys(got, tokenPartitions) {
		if !equalSets(got[a], tokenPartitions[a]) {
			t.Errorf("%s reaches partitions %v, want %v", a, got[a], tokenPartitions[a])
		}
	}

	table := "Fn::GetAtt Table.Arn"
	lastUsed := tokenKeyRecordAttributes
	for _, c := range []struct {
		name string
		a    samtemplate.ItemAccess
		want bool
	}{
		{"read the digest lookups of a key pair", samtemplate.ItemAccess{Action: "dynamodb:BatchGetItem", Resource: table, LeadingKeys: []string{"DIGEST#aa", "DIGEST#bb"}}, true},
		{"read key records", samtemplate.ItemAccess{Action: "dynamodb:BatchGetItem", Resource: table, LeadingKeys: []string{"KEY#key_1", "KEY#key_2"}}, true},
		{"read an idempotency record among lookups", samtemplate.ItemAccess{Action: "dynamodb:BatchGetItem", Resource: table, LeadingKeys: []string{"DIGEST#aa", "IDEM#mid#key_1#cc"}}, false},
		{"read a refresh token", samtemplate.ItemAccess{Action: "dynamodb:GetItem", Resource: table, LeadingKeys: []string{"REFRESH#aa"}}, true},
		{"read a key's sealed value", samtemplate.ItemAccess{Action: "dynamodb:GetItem", Resource: table, LeadingKeys: []string{"KEY#key_1"}}, false},
		{"store a refresh token", samtemplate.ItemAccess{Action: "dynamodb:PutItem", Resource: table, LeadingKeys: []string{"REFRESH#aa"}}, true},
		{"mark a family revoked", samtemplate.ItemAccess{Action: "dynamodb:PutItem", Resource: table, LeadingKeys: []string{"FAMILY#f"}}, true},
		{"write a digest lookup", samtemplate.ItemAccess{Action: "dynamodb:PutItem", Resource: table, LeadingKeys: []string{"DIGEST#aa"}}, false},
		{"write a key record", samtemplate.ItemAccess{Action: "dynamodb:PutItem", Resource: table, LeadingKeys: []string{"KEY#key_1"}}, false},
		{"write an onboarding claim", samtemplate.ItemAccess{Action: "dynamodb:PutItem", Resource: table, LeadingKeys: []string{"MID#mid"}}, false},
		{"rotate a refresh token", samtemplate.ItemAccess{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{"REFRESH#aa"}, Attributes: []string{"pk", "sk", "rotated_at", "revoked_at"}}, true},
		{"set last_used", samtemplate.ItemAccess{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{"KEY#key_1"}, Attributes: lastUsed}, true},
		{"widen a key's scopes", samtemplate.ItemAccess{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{"KEY#key_1"}, Attributes: []string{"pk", "sk", "scopes"}}, false},
		{"move a key to another merchant", samtemplate.ItemAccess{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{"KEY#key_1"}, Attributes: []string{"pk", "sk", "mid", "gsi1pk"}}, false},
		{"widen a digest lookup's scopes", samtemplate.ItemAccess{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{"DIGEST#aa"}, Attributes: []string{"pk", "sk", "scopes"}}, false},
		{"count a token", samtemplate.ItemAccess{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{"RATE#key_1#2026-11-27T12:00Z"}, Attributes: tokenCountAttributes}, true},
		{"give a token back (a withdrawn issue)", samtemplate.ItemAccess{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{"RATE#key_1#2026-11-27T12:00Z"}, Attributes: []string{"pk", "sk", "count"}}, true},
		{"clear a rotation, revoke a refresh token (a withdrawn issue)", samtemplate.ItemAccess{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{"REFRESH#aa"}, Attributes: []string{"pk", "sk", "rotated_at", "revoked_at"}}, true},
		{"write anything else on a count", samtemplate.ItemAccess{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{"RATE#key_1#2026-11-27T12:00Z"}, Attributes: []string{"pk", "sk", "count", "scopes"}}, false},
		{"replace a count", samtemplate.ItemAccess{Action: "dynamodb:PutItem", Resource: table, LeadingKeys: []string{"RATE#key_1#2026-11-27T12:00Z"}}, false},
		{"delete a count", samtemplate.ItemAccess{Action: "dynamodb:DeleteItem", Resource: table, LeadingKeys: []string{"RATE#key_1#2026-11-27T12:00Z"}}, false},
		{"check a family", samtemplate.ItemAccess{Action: "dynamodb:ConditionCheckItem", Resource: table, LeadingKeys: []string{"FAMILY#f"}}, true},
		{"check a key's generation", samtemplate.ItemAccess{Action: "dynamodb:ConditionCheckItem", Resource: table, LeadingKeys: []string{"KEY#key_1"}}, true},
		{"delete a key record", samtemplate.ItemAccess{Action: "dynamodb:DeleteItem", Resource: table, LeadingKeys: []string{"KEY#key_1"}}, false},
		{"list a merchant's keys", samtemplate.ItemAccess{Action: "dynamodb:Query", Resource: "Fn::Sub ${Table.Arn}/index/" + dynamostore.IndexGSI1, LeadingKeys: []string{"MID#mid"}}, false},
	} {
		allowed := false
		for _, st := range sts {
			ok, err := st.Allows(c.a)
			if err != nil {
				t.Fatal(err)
			}
			allowed = allowed || ok
		}
		if allowed != c.want {
			t.Errorf("the token function may %s: %v, want %v", c.name, allowed, c.want)
		}
	}
}

func TestExpressionAttributes(t *testing.T) {
	names := map[string]string{"#pk": "pk", "#revoked": "revoked", "#gen": "generation", "#prevUntil": "previous_valid_until", "#rolled": "rolled_at", "#used": "last_used", "#ttl": "ttl"}
	for _, c := range []struct {
		expr string
		want []string
	}{
		{"SET #used = :now", []string{"last_used"}},
		{"attribute_exists(#pk) AND #revoked = :false AND (#gen = :gen OR (#gen = :next AND #prevUntil > :now AND #prevUntil > #rolled))", []string{"pk", "revoked", "generation", "previous_valid_until", "rolled_at"}},
		{"SET rotated_at = :now", []string{"rotated_at"}},
		{"SET revoked_at = if_not_exists(revoked_at, :at), #ttl = if_not_exists(#ttl, :until)", []string{"revoked_at", "ttl"}},
		{"SET a.b[0] = :v REMOVE c ADD d :one", []string{"a", "c", "d"}},
		{"size(tags) > :n OR begins_with(pk, :p)", []string{"tags", "pk"}},
		{"attribute_not_exists(pk)", []string{"pk"}},
	} {
		if got := samtemplate.ExpressionAttributes(c.expr, names); !slices.Equal(got, c.want) {
			t.Errorf("%q names %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestLike(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"KEY#*", "KEY#key_01", true},
		{"KEY#*", "KEY#", true},
		{"KEY#*", "DIGEST#KEY#", false},
		{"*", "a/b", true},
		{"?*", "", false},
		{"?*", "m", true},
		{"a?c", "abc", true},
		{"a?c", "abbc", false},
	} {
		if got := samtemplate.Like(c.pattern, c.s); got != c.want {
			t.Errorf("Like(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

// A condition Allows cannot evaluate is an error, not a silent pass; a
// condition on a value the access does not know is not met.
func TestAllowsEvaluatesOnlyWhatItKnows(t *testing.T) {
	parse := func(src string) samtemplate.Statement {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		return samtemplate.PolicyStatements(doc.Content[0])[0]
	}
	access := samtemplate.ItemAccess{Action: "dynamodb:GetItem", Resource: "Fn::GetAtt Table.Arn", LeadingKeys: []string{"KEY#k"}}
	for _, cond := range []string{"StringLike: {dynamodb:LeadingKeys: [\"KEY#*\"]}", "ForAllValues:StringLike: {dynamodb:Select: [x]}"} {
		st := parse("- {Effect: Allow, Action: [dynamodb:GetItem], Resource: !GetAtt Table.Arn, Condition: {" + cond + "}}")
		if _, err := st.Allows(access); err == nil {
			t.Errorf("condition %s: no error", cond)
		}
	}
	st := parse("- {Effect: Allow, Action: [dynamodb:GetItem], Resource: !GetAtt Table.Arn, Condition: {ForAllValues:StringEquals: {dynamodb:Attributes: [pk, sk]}}}")
	if ok, err := st.Allows(access); ok || err != nil {
		t.Errorf("attributes unknown: allowed %v, %v", ok, err)
	}
	access.Attributes = []string{"pk", "sk"}
	if ok, err := st.Allows(access); !ok || err != nil {
		t.Errorf("attributes known and listed: allowed %v, %v", ok, err)
	}
	access.Action = "dynamodb:PutItem"
	if ok, _ := st.Allows(access); ok {
		t.Error("an action the statement does not name is allowed")
	}
}
