package samtemplate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/app"
)

// kmsUseActions use a key, or let someone else use it (a grant), as opposed
// to administering it.
var kmsUseActions = []string{
	"kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
	"kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
	"kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
	"kms:Sign", "kms:Verify", "kms:GetPublicKey", "kms:GenerateMac", "kms:VerifyMac",
	"kms:DeriveSharedSecret", "kms:CreateGrant",
}

// kmsAdminActions are what the account needs to keep administering a key
// (and CloudFormation to update it): KMS refuses a policy that would lock it out.
var kmsAdminActions = []string{
	"kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey", "kms:ListResourceTags",
	"kms:EnableKey", "kms:DisableKey", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus",
	"kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource",
	"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
	"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
}

// actionMatches reports whether an IAM action pattern (with * and ?,
// case-insensitive) matches an action.
func actionMatches(pattern, action string) bool {
	return samtemplate.Like(strings.ToLower(pattern), strings.ToLower(action))
}

const accountRoot = "Fn::Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root"

// roleARNs returns, per function, the ARN pattern of its role as the key
// policies must name it: the account's roles under the function's RolePath.
func roleARNs(t *testing.T, tpl *samtemplate.Template) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, fn := range tpl.Functions() {
		rolePath := samtemplate.Describe(samtemplate.Get(tpl.Resource(fn), "Properties", "RolePath"))
		p, ok := strings.CutPrefix(rolePath, "Fn::Sub ")
		// The stack name keeps two stacks (sandbox, production) in one account apart.
		if !ok || !strings.HasPrefix(p, "/credplane/${AWS::StackName}/") || !strings.HasSuffix(p, "/"+fn+"/") {
			t.Errorf("%s: RolePath = %s, want !Sub /credplane/${AWS::StackName}/%s/", fn, rolePath, fn)
			continue
		}
		out[fn] = "Fn::Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role" + p + "*"
	}
	return out
}

// TestKMSKeyPoliciesGrantUseOnlyToTheCallingRoles holds each key policy to
// app.Permissions: the account administers the key but cannot use it,
// and each use action is granted to the roles of exactly the functions
// that call it.
func TestKMSKeyPoliciesGrantUseOnlyToTheCallingRoles(t *testing.T) {
	tpl := load(t)
	roles := roleARNs(t, tpl)
	owner := map[string]string{} // role ARN pattern -> function
	for fn, arn := range roles {
		owner[arn] = fn
	}
	for _, key := range []string{"DataKey", "SigningKey"} {
		t.Run(key, func(t *testing.T) {
			granted := map[string][]string{} // use action -> functions
			var admin []string               // action patterns granted to the account
			policy := policyStatements(t, key, must(t, tpl.Resource(key), "Properties", "KeyPolicy", "Statement"))
			for _, st := range policy {
				// The principal is always the account: a role named as the
				// principal would have to exist before the key, and the roles'
				// policies name the key.
				if st.Principal != accountRoot || !slices.Equal(st.Resources, []string{"*"}) {
					t.Errorf("statement %s: Principal.AWS %s, Resource %v; want the account root and *", st.Sid, st.Principal, st.Resources)
				}
				role := samtemplate.Describe(samtemplate.Get(st.Condition, "ArnLike", "aws:PrincipalArn"))
				fn, isRole := owner[role]
				if !isRole {
					if st.Condition != nil {
						t.Errorf("statement %s: condition %s does not name a function's role (want ArnLike aws:PrincipalArn %v)", st.Sid, samtemplate.Describe(st.Condition), roles)
					}
					for _, p := range st.Actions {
						for _, use := range kmsUseActions {
							if actionMatches(p, use) {
								t.Errorf("statement %s gives the whole account %s (through %s)", st.Sid, use, p)
							}
						}
					}
					admin = append(admin, st.Actions...)
					continue
				}
				if keys := samtemplate.Keys(samtemplate.Get(st.Condition, "ArnLike")); !slices.Equal(keys, []string{"aws:PrincipalArn"}) {
					t.Errorf("statement %s: ArnLike on %v, want aws:PrincipalArn alone", st.Sid, keys)
				}
				for _, a := range st.Actions {
					if kmsKeyOf[a] != key {
						t.Errorf("statement %s grants %s, which the code does not call on %s", st.Sid, a, key)
					}
					granted[a] = append(granted[a], fn)
				}
				checkKMSCondition(t, st, "ArnLike")
			}
			want := map[string][]string{}
			for fn, actions := range app.Permissions {
				for _, a := range actions {
					if kmsKeyOf[a] == key {
						want[a] = append(want[a], fn)
					}
				}
			}
			for a := range mergeKeys(granted, want) {
				if !equalSets(granted[a], want[a]) || len(granted[a]) != len(slices.Compact(slices.Sorted(slices.Values(granted[a])))) {
					t.Errorf("%s is granted to the roles of %v, want exactly (and once each) %v", a, granted[a], want[a])
				}
			}
			for _, a := range kmsAdminActions {
				if !slices.ContainsFunc(admin, func(p string) bool { return actionMatches(p, a) }) {
					t.Errorf("the account cannot %s: the key could no longer be administered or updated", a)
				}
			}
		})
	}
}

func mergeKeys(a, b map[string][]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
