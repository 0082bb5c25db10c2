package samtemplate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flexfactor/credplane/infra/repo"
	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/metrics"
)

// The SAM transform check: template.yaml goes through the SAM translator
// (infra/scripts/sam-transform.py, what CloudFormation runs at deploy time)
// with each stage's parameters from samconfig.toml, and the tests read what
// would be deployed: the generated routes, roles and permissions, with the
// stage's conditions applied.

// haveTranslator reports whether python3 can import the SAM translator.
var haveTranslator = sync.OnceValue(func() bool {
	return exec.Command("python3", "-c", "import samtranslator").Run() == nil
})

// transformed caches the translator's output per parameter set.
var transformed sync.Map // string -> transformResult

type transformResult struct {
	doc map[string]any
	err error
}

// transformFor runs the translator with the parameters and returns the
// CloudFormation template with the stage's conditions applied (see
// stageView). It skips the test where the translator is not installed.
func transformFor(t *testing.T, params map[string]string, region string) map[string]any {
	t.Helper()
	if !haveTranslator() {
		t.Skip("skipping the SAM transform check: python3 cannot import samtranslator (pip install aws-sam-translator)")
	}
	args := make([]string, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		args = append(args, k+"="+params[k])
	}
	key := region + " " + strings.Join(args, " ")
	if r, ok := transformed.Load(key); ok {
		res := r.(transformResult)
		if res.err != nil {
			t.Fatal(res.err)
		}
		return res.doc
	}
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", append([]string{filepath.Join(root, "infra", "scripts", "sam-transform.py"), filepath.Join(root, "template.yaml")}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION="+region)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var res transformResult
	if err := cmd.Run(); err != nil {
		res.err = fmt.Errorf("sam-transform.py %s: %v\n%s", key, err, stderr.String())
	} else {
		var doc map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
			res.err = fmt.Errorf("sam-transform.py: not JSON: %v", err)
		} else {
			res.doc, res.err = stageView(doc, params)
		}
	}
	transformed.Store(key, res)
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res.doc
}

// stageParams are a samconfig.toml environment's parameter overrides and
// region.
func stageParams(t *testing.T, env string) (map[string]string, string) {
	t.Helper()
	cfg := readSamconfig(t)
	params := map[string]string{}
	for _, pair := range strings.Fields(cfg[env+".deploy.parameters.parameter_overrides"]) {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			t.Fatalf("[%s] parameter_overrides: %q is not Name=Value", env, pair)
		}
		params[k] = v
	}
	return params, cfg[env+".deploy.parameters.region"]
}

// stageDoc is the transformed template of a samconfig.toml environment.
func stageDoc(t *testing.T, env string) map[string]any {
	t.Helper()
	params, region := stageParams(t, env)
	return transformFor(t, params, region)
}

// noValue stands for Ref AWS::NoValue while resolving.
type noValue struct{}

// stageView applies what CloudFormation resolves from the parameters alone:
// it evaluates the Conditions, keeps the chosen branch of each Fn::If,
// drops AWS::NoValue and the resources and outputs whose condition is
// false, and replaces Ref to a parameter, Fn::FindInMap and Fn::Join (once
// their arguments are plain) with their values. References to resources
// and pseudo parameters stay as they are.
func stageView(doc map[string]any, overrides map[string]string) (map[string]any, error) {
	r := &resolver{doc: doc, params: map[string]any{}, conds: map[string]bool{}}
	decls, _ := doc["Parameters"].(map[string]any)
	for name, d := range decls {
		decl, _ := d.(map[string]any)
		v, set := overrides[name]
		if !set {
			v = fmt.Sprint(decl["Default"])
			if decl["Default"] == nil {
				v = ""
			}
		}
		if decl["Type"] == "CommaDelimitedList" {
			var list []any
			for _, s := range strings.Split(v, ",") {
				list = append(list, s)
			}
			r.params[name] = list
		} else {
			r.params[name] = v
		}
	}
	for name := range overrides {
		if _, ok := decls[name]; !ok {
			return nil, fmt.Errorf("parameter %s is not declared", name)
		}
	}
	conds, _ := doc["Conditions"].(map[string]any)
	for name := range conds {
		if _, err := r.condition(name); err != nil {
			return nil, err
		}
	}
	out := map[string]any{}
	for section, v := range doc {
		if section != "Resources" && section != "Outputs" {
			out[section] = v
			continue
		}
		kept := map[string]any{}
		for id, body := range v.(map[string]any) {
			if c, ok := body.(map[string]any)["Condition"].(string); ok && !r.conds[c] {
				continue
			}
			res, err := r.resolve(body)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", section, id, err)
			}
			kept[id] = res
		}
		out[section] = kept
	}
	return out, nil
}

type resolver struct {
	doc    map[string]any
	params map[string]any
	conds  map[string]bool
}

func (r *resolver) condition(name string) (bool, error) {
	if v, ok := r.conds[name]; ok {
		return v, nil
	}
	def, ok := r.doc["Conditions"].(map[string]any)[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	v, err := r.boolean(def)
	r.conds[name] = v
	return v, err
}

func (r *resolver) boolean(n any) (bool, error) {
	m, _ := n.(map[string]any)
	if len(m) != 1 {
		return false, fmt.Errorf("not a condition: %v", n)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			return r.condition(arg.(string))
		case "Fn::Equals":
			a, err := r.resolve(args[0])
			if err != nil {
				return false, err
			}
			b, err := r.resolve(args[1])
			return fmt.Sprint(a) == fmt.Sprint(b), err
		case "Fn::Not", "Fn::And", "Fn::Or":
			var vals []bool
			for _, c := range args {
				v, err := r.boolean(c)
				if err != nil {
					return false, err
				}
				vals = append(vals, v)
			}
			switch fn {
			case "Fn::Not":
				return !vals[0], nil
			case "Fn::And":
				return !slices.Contains(vals, false), nil
			}
			return slices.Contains(vals, true), nil
		}
		return false, fmt.Errorf("%s in a condition", fn)
	}
	return false, nil
}

func (r *resolver) resolve(n any) (any, error) {
	switch n := n.(type) {
	case []any:
		out := []any{}
		for _, e := range n {
			v, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if _, drop := v.(noValue); !drop {
				out = append(out, v)
			}
		}
		return out, nil
	case map[string]any:
		if len(n) == 1 {
			for fn, arg := range n {
				if v, done, err := r.intrinsic(fn, arg); done || err != nil {
					return v, err
				}
			}
		}
		out := map[string]any{}
		for k, e := range n {
			v, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if _, drop := v.(noValue); !drop {
				out[k] = v
			}
		}
		return out, nil
	}
	return n, nil
}

// intrinsic resolves the functions stageView resolves; done is false for
// any other (whose arguments the caller resolves).
func (r *resolver) intrinsic(fn string, arg any) (any, bool, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		if arg == "AWS::NoValue" {
			return noValue{}, true, nil
		}
		if v, ok := r.params[arg.(string)]; ok {
			return v, true, nil
		}
	case "Fn::If":
		c, err := r.condition(args[0].(string))
		if err != nil {
			return nil, true, err
		}
		if c {
			v, err := r.resolve(args[1])
			return v, true, err
		}
		v, err := r.resolve(args[2])
		return v, true, err
	case "Fn::FindInMap":
		keys, err := r.resolve(args)
		if err != nil {
			return nil, true, err
		}
		k := keys.([]any)
		m, _ := r.doc["Mappings"].(map[string]any)[fmt.Sprint(k[0])].(map[string]any)
		row, _ := m[fmt.Sprint(k[1])].(map[string]any)
		v, ok := row[fmt.Sprint(k[2])]
		if !ok {
			return nil, true, fmt.Errorf("Fn::FindInMap %v: no such entry", k)
		}
		return v, true, nil
	case "Fn::Join":
		list, err := r.resolve(args[1])
		if err != nil {
			return nil, true, err
		}
		var parts []string
		for _, e := range list.([]any) {
			s, ok := e.(string)
			if !ok {
				return map[string]any{fn: []any{args[0], list}}, true, nil
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, args[0].(string)), true, nil
	}
	return nil, false, nil
}

// get follows keys (map keys, or list indexes as "0", "1", ...) from n.
func get(n any, keys ...string) any {
	for _, k := range keys {
		switch m := n.(type) {
		case map[string]any:
			n = m[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(m) {
				return nil
			}
			n = m[i]
		default:
			return nil
		}
	}
	return n
}

func resourcesOfType(doc map[string]any, typ string) []string {
	var out []string
	for id, r := range doc["Resources"].(map[string]any) {
		if get(r, "Type") == typ {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// stages are the deployed environments of samconfig.toml.
var stages = []string{"sandbox", "production"}

// TestTransformedRoutesReachTheirFunctions: in the API SAM generates, each
// route's integration invokes the function whose router serves it (the
// catch-all the token function), in payload format 2.0, and API Gateway may
// invoke each of those functions.
func TestTransformedRoutesReachTheirFunctions(t *testing.T) {
	for _, stage := range stages {
		t.Run(stage, func(t *testing.T) {
			doc := stageDoc(t, stage)
			want := map[string]string{"$default": app.TokenFunction}
			for fn, routes := range servedRoutes {
				for _, r := range routes {
					want[r] = fn
				}
			}
			got := map[string]string{}
			paths, _ := get(doc, "Resources", "HttpApi", "Properties", "Body", "paths").(map[string]any)
			if get(doc, "Resources", "HttpApi", "Type") != "AWS::ApiGatewayV2::Api" || len(paths) == 0 {
				t.Fatalf("HttpApi: %s", asJSON(get(doc, "Resources", "HttpApi")))
			}
			for path, ops := range paths {
				for method, op := range ops.(map[string]any) {
					key := strings.ToUpper(method) + " " + path
					if method == "x-amazon-apigateway-any-method" && path == "/$default" {
						key = "$default"
					}
					integ := get(op, "x-amazon-apigateway-integration")
					uri, _ := get(integ, "uri", "Fn::Sub").(string)
					fn := ""
					for _, f := range slices.Collect(maps.Keys(servedRoutes)) {
						if strings.Contains(uri, "${"+f+".Arn}") {
							fn = f
						}
					}
					if get(integ, "type") != "aws_proxy" || get(integ, "payloadFormatVersion") != "2.0" || fn == "" {
						t.Errorf("%s: integration %s", key, asJSON(integ))
					}
					got[key] = fn
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("routes -> functions:\n got %v\nwant %v", got, want)
			}
			invokable := map[string]bool{}
			for _, id := range resourcesOfType(doc, "AWS::Lambda::Permission") {
				p := get(doc, "Resources", id, "Properties")
				fn, _ := get(p, "FunctionName", "Ref").(string)
				if get(p, "Principal") == "apigateway.amazonaws.com" && get(p, "Action") == "lambda:InvokeFunction" &&
					asJSON(get(p, "SourceArn", "Fn::Sub", "1", "__ApiId__")) == `{"Ref":"HttpApi"}` {
					invokable[fn] = true
				}
			}
			for _, fn := range want {
				if !invokable[fn] {
					t.Errorf("API Gateway may not invoke %s", fn)
				}
			}
			stageRes := get(doc, "Resources", "HttpApiApiGatewayDefaultStage", "Properties")
			if get(stageRes, "StageName") != "$default" || get(stageRes, "AutoDeploy") != true ||
				asJSON(get(stageRes, "AccessLogSettings", "DestinationArn")) != `{"Fn::GetAtt":["ApiAccessLogGroup","Arn"]}` {
				t.Errorf("the API's stage: %s", asJSON(stageRes))
			}
		})
	}
}

// runtimePolicies are the managed policies SAM attaches to every function's
// role: the Lambda runtime's own CloudWatch Logs writes, and X-Ray traces
// (Tracing: Active). The code calls neither.
var runtimePolicies = []string{
	"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
	"arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}

// roleGrants returns the actions and, per action, the resources a
// function's generated role grants in its inline policies, after checking
// the role's wiring.
func roleGrants(t *testing.T, doc map[string]any, fn string) map[string][]string {
	t.Helper()
	role := get(doc, "Resources", fn, "Properties", "Role")
	if asJSON(role) != `{"Fn::GetAtt":["`+fn+`Role","Arn"]}` {
		t.Fatalf("%s: Role = %s", fn, asJSON(role))
	}
	props := get(doc, "Resources", fn+"Role", "Properties")
	if get(doc, "Resources", fn+"Role", "Type") != "AWS::IAM::Role" {
		t.Fatalf("%sRole is not a role", fn)
	}
	if got := asJSON(get(props, "Path")); got != `{"Fn::Sub":"/credplane/${AWS::StackName}/`+fn+`/"}` {
		t.Errorf("%s: role Path = %s (the key policies grant by it)", fn, got)
	}
	if got := asJSON(get(props, "AssumeRolePolicyDocument", "Statement", "0", "Principal")); got != `{"Service":["lambda.amazonaws.com"]}` {
		t.Errorf("%s: the role is assumed by %s", fn, got)
	}
	var managed []string
	for _, p := range get(props, "ManagedPolicyArns").([]any) {
		managed = append(managed, fmt.Sprint(p))
	}
	if !equalSets(managed, runtimePolicies) {
		t.Errorf("%s: managed policies %v, want only the runtime's %v", fn, managed, runtimePolicies)
	}
	grants := map[string][]string{}
	policies, _ := get(props, "Policies").([]any)
	for _, p := range policies {
		for _, st := range get(p, "PolicyDocument", "Statement").([]any) {
			if get(st, "Effect") != "Allow" {
				t.Errorf("%s: statement %s", fn, asJSON(st))
			}
			var resources []string
			switch res := get(st, "Resource").(type) {
			case []any:
				for _, r := range res {
					resources = append(resources, asJSON(r))
				}
			default:
				resources = []string{asJSON(res)}
			}
			actions := get(st, "Action")
			if s, ok := actions.(string); ok {
				actions = []any{s}
			}
			for _, a := range actions.([]any) {
				grants[a.(string)] = append(grants[a.(string)], resources...)
			}
		}
	}
	return grants
}

// TestTransformedRolesHoldExactlyThePermissions: each function's generated
// role grants, in its own policies, exactly the actions of app.Permissions,
// and the only managed policies are the Lambda runtime's (logs, traces).
func TestTransformedRolesHoldExactlyThePermissions(t *testing.T) {
	for _, stage := range stages {
		t.Run(stage, func(t *testing.T) {
			doc := stageDoc(t, stage)
			if got := resourcesOfType(doc, "AWS::Lambda::Function"); !equalSets(got, slices.Collect(maps.Keys(app.Permissions))) {
				t.Fatalf("functions %v, app.Permissions %v", got, slices.Sorted(maps.Keys(app.Permissions)))
			}
			for fn, want := range app.Permissions {
				if got := slices.Collect(maps.Keys(roleGrants(t, doc, fn))); !equalSets(got, want) {
					t.Errorf("%s's role grants %v, want exactly %v", fn, slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
				}
			}
		})
	}
}

// TestTransformedRotationGrantsExactlyTheKeys: during a rotation, the
// deployed roles may read the public half of exactly the signing key and
// the listed ones, only the token function may sign, with the signing key
// alone, and the functions are told the same keys.
func TestTransformedRotationGrantsExactlyTheKeys(t *testing.T) {
	const (
		next  = "arn:aws:kms:us-east-1:111122223333:key/0f4a2c9e-1b7d-4e3a-9c55-2d8e6f1a7b30"
		prev1 = "arn:aws:kms:us-east-1:111122223333:key/5d1e8a44-93c2-4b6f-a0d7-7c3b9e2f1a66"
		prev2 = "arn:aws:kms:us-east-1:111122223333:key/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	)
	params, region := stageParams(t, "production")
	params = maps.Clone(params)
	params["SigningKeyArn"] = next
	params["VerifyKeyArns"] = prev1 + "," + prev2
	doc := transformFor(t, params, region)
	quoted := func(arns ...string) []string {
		var out []string
		for _, a := range arns {
			out = append(out, asJSON(a))
		}
		return out
	}
	for fn := range app.Permissions {
		grants := roleGrants(t, doc, fn)
		var wantSign, wantRead []string
		if slices.Contains(app.Permissions[fn], "kms:Sign") {
			wantSign = quoted(next)
		}
		if slices.Contains(app.Permissions[fn], "kms:GetPublicKey") {
			wantRead = quoted(next, prev1, prev2)
		}
		if !slices.Equal(grants["kms:Sign"], wantSign) || !equalSets(grants["kms:GetPublicKey"], wantRead) || len(grants["kms:GetPublicKey"]) != len(wantRead) {
			t.Errorf("%s: kms:Sign on %v, kms:GetPublicKey on %v; want %v and %v", fn, grants["kms:Sign"], grants["kms:GetPublicKey"], wantSign, wantRead)
		}
		env, _ := get(doc, "Resources", fn, "Properties", "Environment", "Variables").(map[string]any)
		if env["KMS_SIGNING_KEY_ID"] != next {
			t.Errorf("%s: KMS_SIGNING_KEY_ID = %v", fn, env["KMS_SIGNING_KEY_ID"])
		}
		if v, has := env["KMS_VERIFY_KEY_IDS"]; has != (wantRead != nil) || has && v != prev1+","+prev2 {
			t.Errorf("%s: KMS_VERIFY_KEY_IDS = %v (given: %v)", fn, v, has)
		}
	}
	if got := get(doc, "Resources", "SigningKeyAlias", "Properties", "TargetKeyId"); got != next {
		t.Errorf("the signing alias targets %v", got)
	}
}

// TestTransformedProductionKeepsItsData: production retains and protects
// the table (and the KMS keys) whatever happens to the stack; the sandbox
// lets them go with it. Both keep point-in-time recovery.
func TestTransformedProductionKeepsItsData(t *testing.T) {
	for _, c := range []struct {
		stage, policy string
		protect       bool
	}{
		{"production", "Retain", true},
		{"sandbox", "Delete", false},
	} {
		t.Run(c.stage, func(t *testing.T) {
			doc := stageDoc(t, c.stage)
			for _, id := range []string{"Table", "DataKey", "SigningKey"} {
				for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
					if got := get(doc, "Resources", id, attr); got != c.policy {
						t.Errorf("%s %s = %v, want %s", id, attr, got, c.policy)
					}
				}
			}
			table := get(doc, "Resources", "Table", "Properties")
			if got := get(table, "DeletionProtectionEnabled"); got != c.protect {
				t.Errorf("DeletionProtectionEnabled = %v, want %v", got, c.protect)
			}
			if got := get(table, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"); got != true {
				t.Errorf("PointInTimeRecoveryEnabled = %v", got)
			}
		})
	}
}

// TestTransformedAlarmsExist: each stage deploys every alarm of the
// template, notifying the topic, with the stage's thresholds, the alarms on
// the functions' metrics reading the stage's own; the email subscription
// exists only with an address.
func TestTransformedAlarmsExist(t *testing.T) {
	tpl := load(t)
	th := thresholds(t, tpl)
	for _, stage := range stages {
		t.Run(stage, func(t *testing.T) {
			params, region := stageParams(t, stage)
			doc := transformFor(t, params, region)
			got := resourcesOfType(doc, "AWS::CloudWatch::Alarm")
			if want := slices.Sorted(maps.Keys(alarms(t, tpl))); !slices.Equal(got, want) {
				t.Fatalf("alarms %v, want %v", got, want)
			}
			for _, id := range got {
				props := get(doc, "Resources", id, "Properties")
				if asJSON(get(props, "AlarmActions")) != `[{"Ref":"AlarmTopic"}]` || asJSON(get(props, "OKActions")) != `[{"Ref":"AlarmTopic"}]` {
					t.Errorf("%s notifies %s / %s", id, asJSON(get(props, "AlarmActions")), asJSON(get(props, "OKActions")))
				}
				key, _ := thresholdKey(samtemplate.Get(tpl.Resource(id), "Properties", "Threshold"))
				if v, ok := get(props, "Threshold").(float64); !ok || v != th[stage][key] {
					t.Errorf("%s: Threshold %v, want the %s %s of %v", id, get(props, "Threshold"), stage, key, th[stage][key])
				}
				if get(props, "Namespace") == metrics.Namespace && asJSON(get(props, "Dimensions")) != `[{"Name":"Stage","Value":"`+stage+`"}]` {
					t.Errorf("%s reads %s", id, asJSON(get(props, "Dimensions")))
				}
			}
			if get(doc, "Resources", "AlarmTopic", "Type") != "AWS::SNS::Topic" || get(doc, "Resources", "Dashboard", "Type") != "AWS::CloudWatch::Dashboard" {
				t.Error("no alarm topic or dashboard")
			}
			if sub := get(doc, "Resources", "AlarmEmailSubscription"); sub != nil {
				t.Errorf("a subscription without AlarmEmail: %s", asJSON(sub))
			}
			params = maps.Clone(params)
			params["AlarmEmail"] = "oncall@example.com"
			withEmail := transformFor(t, params, region)
			if got := get(withEmail, "Resources", "AlarmEmailSubscription", "Properties", "Endpoint"); got != "oncall@example.com" {
				t.Errorf("with AlarmEmail, the subscription's endpoint is %v", got)
			}
		})
	}
}
