package samtemplate_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/app"
)

// verifiers are the functions that read signing keys' public halves (to
// verify tokens, or to publish them): those granted kms:GetPublicKey.
func verifiers() []string {
	var out []string
	for fn, actions := range app.Permissions {
		if slices.Contains(actions, "kms:GetPublicKey") {
			out = append(out, fn)
		}
	}
	slices.Sort(out)
	return out
}

// kmsResources returns, per KMS action, the resources a function's
// statements grant it on with the given parameters.
func kmsResources(t *testing.T, tpl *samtemplate.Template, fn string, p samtemplate.Params) map[string][]string {
	t.Helper()
	sts, err := tpl.StatementsWith(fn, p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, st := range sts {
		for _, a := range st.Actions {
			if a == "kms:Sign" || a == "kms:GetPublicKey" {
				out[a] = append(out[a], st.Resources...)
			}
		}
	}
	return out
}

// TestSigningKeyRotationIsAParameter: rotating the signing key changes
// parameters, not the template. SigningKeyArn names the key that signs
// (the stack's own SigningKey when empty), VerifyKeyArns the others whose
// tokens verify; the functions that read public keys get them in
// KMS_VERIFY_KEY_IDS and kms:GetPublicKey on exactly the signing key and
// those, only the token function may sign, and only with the signing key.
func TestSigningKeyRotationIsAParameter(t *testing.T) {
	tpl := load(t)
	const (
		next = "arn:aws:kms:us-east-1:111122223333:key/0f4a2c9e-1b7d-4e3a-9c55-2d8e6f1a7b30"
		prev = "arn:aws:kms:us-east-1:111122223333:key/5d1e8a44-93c2-4b6f-a0d7-7c3b9e2f1a66"
	)
	for _, c := range []struct {
		name   string
		params samtemplate.Params
		signer string // the signing key, as the template names it
		verify bool   // whether VerifyKeyArns verify too
	}{
		{"no rotation", samtemplate.Params{}, "Fn::GetAtt SigningKey.Arn", false},
		{"the next key published", samtemplate.Params{"VerifyKeyArns": next}, "Fn::GetAtt SigningKey.Arn", true},
		{"the next key signs, the stack's verifies", samtemplate.Params{"SigningKeyArn": next, "VerifyKeyArns": prev}, "Ref SigningKeyArn", true},
		{"the previous key retired", samtemplate.Params{"SigningKeyArn": next}, "Ref SigningKeyArn", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for cond, want := range map[string]bool{"HasSigningKeyArn": c.signer == "Ref SigningKeyArn", "HasVerifyKeys": c.verify} {
				if got, err := tpl.Condition(cond, c.params); err != nil || got != want {
					t.Errorf("%s = %v, %v; want %v", cond, got, err, want)
				}
			}
			readable := []string{c.signer}
			if c.verify {
				readable = append(readable, "Ref VerifyKeyArns")
			}
			for _, fn := range tpl.Functions() {
				got := kmsResources(t, tpl, fn, c.params)
				var wantSign, wantRead []string
				if slices.Contains(app.Permissions[fn], "kms:Sign") {
					wantSign = []string{c.signer}
				}
				if slices.Contains(verifiers(), fn) {
					wantRead = readable
				}
				if !slices.Equal(got["kms:Sign"], wantSign) || !equalSets(got["kms:GetPublicKey"], wantRead) || len(got["kms:GetPublicKey"]) != len(wantRead) {
					t.Errorf("%s: kms:Sign on %v, kms:GetPublicKey on %v; want %v and exactly %v", fn, got["kms:Sign"], got["kms:GetPublicKey"], wantSign, wantRead)
				}
				env := tpl.Environment(fn)
				signing := resolve(t, tpl, env["KMS_SIGNING_KEY_ID"], c.params)
				if want := map[bool]string{true: "Ref SigningKeyArn", false: "Ref SigningKey"}[c.signer == "Ref SigningKeyArn"]; signing != want {
					t.Errorf("%s: KMS_SIGNING_KEY_ID = %s, want %s", fn, signing, want)
				}
				if _, has := env["KMS_VERIFY_KEY_IDS"]; has != slices.Contains(verifiers(), fn) {
					t.Errorf("%s: KMS_VERIFY_KEY_IDS given: %v; it goes to exactly %v", fn, has, verifiers())
				}
			}
			// The alias and the outputs name the key that signs now.
			want := map[bool]string{true: "Ref SigningKeyArn", false: "Ref SigningKey"}[c.signer == "Ref SigningKeyArn"]
			if got := resolve(t, tpl, samtemplate.Get(tpl.Resource("SigningKeyAlias"), "Properties", "TargetKeyId"), c.params); got != want {
				t.Errorf("SigningKeyAlias targets %s, want %s", got, want)
			}
			if got := resolve(t, tpl, must(t, tpl.Root, "Outputs", "SigningKeyArn", "Value"), c.params); got != c.signer {
				t.Errorf("output SigningKeyArn = %s, want %s", got, c.signer)
			}
		})
	}
	// The parameters are optional, and SigningKeyArn takes only a key ARN
	// (the kid comes from it: an alias or a bare id would not do).
	params := must(t, tpl.Root, "Parameters")
	for name, typ := range map[string]string{"SigningKeyArn": "String", "VerifyKeyArns": "CommaDelimitedList"} {
		if got := samtemplate.Describe(samtemplate.Get(params, name, "Type")); got != typ {
			t.Errorf("%s Type = %s, want %s", name, got, typ)
		}
		if d := samtemplate.Get(params, name, "Default"); d == nil || d.Value != "" {
			t.Errorf("%s must default to empty", name)
		}
	}
	pattern := samtemplate.Describe(samtemplate.Get(params, "SigningKeyArn", "AllowedPattern"))
	for v, ok := range map[string]bool{"": true, next: true, "arn:aws:kms:us-east-1:111122223333:alias/credplane-sandbox-signing": false, "0f4a2c9e-1b7d-4e3a-9c55-2d8e6f1a7b30": false} {
		if got := regexpMatch(t, pattern, v); got != ok {
			t.Errorf("SigningKeyArn %q accepted: %v, want %v", v, got, ok)
		}
	}
}

// regexpMatch reports whether a CloudFormation AllowedPattern (a Java
// regular expression that must match the whole value) accepts v.
func regexpMatch(t *testing.T, pattern, v string) bool {
	t.Helper()
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		t.Fatal(err)
	}
	return re.MatchString(v)
}
