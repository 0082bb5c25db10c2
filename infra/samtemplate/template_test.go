package samtemplate_test

import (
	"encoding/json"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/infra/lambdalocal"
	"github.com/flexfactor/credplane/infra/repo"
	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/dynamostore"
	"gopkg.in/yaml.v3"
)

// servedRoutes are the routes each function's Go router serves.
var servedRoutes = app.Routes

var (
	sandbox    = samtemplate.Params{"Stage": string(apikey.Sandbox)}
	production = samtemplate.Params{"Stage": string(apikey.Production)}
)

func load(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.LoadRepo()
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// must returns the node at keys below n, failing the test when it is absent.
func must(t *testing.T, n *yaml.Node, keys ...string) *yaml.Node {
	t.Helper()
	v := samtemplate.Get(n, keys...)
	if v == nil {
		t.Fatalf("template: %s is missing", strings.Join(keys, "."))
	}
	return v
}

// resolve picks the Fn::If branches of n for the given parameters.
func resolve(t *testing.T, tpl *samtemplate.Template, n *yaml.Node, p samtemplate.Params) string {
	t.Helper()
	v, err := tpl.Resolve(n, p)
	if err != nil {
		t.Fatal(err)
	}
	if v == nil {
		return "<no value>"
	}
	return samtemplate.Describe(v)
}

func equalSets(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func TestTransformsLanguageExtensionsFirst(t *testing.T) {
	// AWS::LanguageExtensions resolves the !If in DeletionPolicy; it must run
	// before the SAM transform.
	got := samtemplate.Strings(must(t, load(t).Root, "Transform"))
	want := []string{"AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"}
	if !slices.Equal(got, want) {
		t.Fatalf("Transform = %v, want %v", got, want)
	}
}

func TestParametersAndConditions(t *testing.T) {
	tpl := load(t)
	params := must(t, tpl.Root, "Parameters")
	stage := must(t, params, "Stage")
	if got := samtemplate.Strings(must(t, stage, "AllowedValues")); !equalSets(got, []string{string(apikey.Sandbox), string(apikey.Production)}) {
		t.Errorf("Stage AllowedValues = %v", got)
	}
	if got := samtemplate.Describe(samtemplate.Get(stage, "Default")); got != string(apikey.Sandbox) {
		t.Errorf("Stage Default = %s, want sandbox", got)
	}
	for name, typ := range map[string]string{
		"LogRetentionDays": "Number", "ThrottlingBurstLimit": "Number", "ThrottlingRateLimit": "Number",
		"LogLevel": "String", "CustomDomainName": "String", "CertificateArn": "String", "CorsAllowOrigin": "String",
		"TokenIssuer": "String", "TokenAudience": "String", "TokenRateLimit": "Number",
	} {
		p := must(t, params, name)
		if got := samtemplate.Describe(samtemplate.Get(p, "Type")); got != typ {
			t.Errorf("parameter %s Type = %s, want %s", name, got, typ)
		}
		if samtemplate.Get(p, "Description") == nil {
			t.Errorf("parameter %s has no Description", name)
		}
	}
	// The optional ones are off unless given.
	for _, name := range []string{"CustomDomainName", "CertificateArn", "CorsAllowOrigin", "TokenIssuer", "TokenAudience"} {
		if d := samtemplate.Get(params, name, "Default"); d == nil || d.Value != "" {
			t.Errorf("parameter %s must default to empty", name)
		}
	}

	cases := []struct {
		cond   string
		params samtemplate.Params
		want   bool
	}{
		{"IsProduction", production, true},
		{"IsProduction", sandbox, false},
		{"IsProduction", samtemplate.Params{}, false}, // the default stage is sandbox
		{"HasCustomDomain", samtemplate.Params{}, false},
		{"HasCustomDomain", samtemplate.Params{"CustomDomainName": "api.example.com"}, true},
		{"HasCors", samtemplate.Params{}, false},
		{"HasCors", samtemplate.Params{"CorsAllowOrigin": "https://app.example.com"}, true},
	}
	for _, c := range cases {
		got, err := tpl.Condition(c.cond, c.params)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s with %v = %v, want %v", c.cond, c.params, got, c.want)
		}
	}

	rule := must(t, tpl.Root, "Rules", "CustomDomainNeedsCertificate")
	if b, _ := yaml.Marshal(rule); !strings.Contains(string(b), "CertificateArn") {
		t.Errorf("the custom domain rule does not check CertificateArn:\n%s", b)
	}
}

func TestGlobals(t *testing.T) {
	fn := must(t, load(t).Root, "Globals", "Function")
	for key, want := range map[string]string{
		"Runtime": "provided.al2023", "Handler": "bootstrap", "MemorySize": "128",
		"Tracing": "Active", "CodeUri": ".", "Timeout": "10",
	} {
		if got := samtemplate.Describe(samtemplate.Get(fn, key)); got != want {
			t.Errorf("Globals.Function.%s = %s, want %s", key, got, want)
		}
	}
	if got := samtemplate.Strings(must(t, fn, "Architectures")); !slices.Equal(got, []string{"arm64"}) {
		t.Errorf("Architectures = %v, want [arm64]", got)
	}
}

// TestEnvironment proves that every variable the template sets is one that
// pkg/config reads (by setting them all and reading them back through
// config.FromEnv), and that the values are the right resources.
func TestEnvironment(t *testing.T) {
	tpl := load(t)
	// name -> (the value the template must give, how config exposes it)
	want := map[string]struct {
		template string
		read     func(config.Config) string
	}{
		"STAGE":              {"Ref Stage", func(c config.Config) string { return string(c.Stage) }},
		"TABLE_NAME":         {"Ref Table", func(c config.Config) string { return c.TableName }},
		"KMS_DATA_KEY_ID":    {"Ref DataKey", func(c config.Config) string { return c.DataKeyID }},
		"KMS_SIGNING_KEY_ID": {"Ref SigningKey", func(c config.Config) string { return c.SigningKeyID }}, // the id: it is the JWT kid
		"KMS_VERIFY_KEY_IDS": {`!Join [",", !Ref VerifyKeyArns]`, func(c config.Config) string { return strings.Join(c.VerifyKeyIDs, ",") }},
		"TOKEN_ISSUER":       {"Ref TokenIssuer", func(c config.Config) string { return c.Issuer }},
		"TOKEN_AUDIENCE":     {"Ref TokenAudience", func(c config.Config) string { return c.Audience }},
		"LOG_LEVEL":          {"Ref LogLevel", func(c config.Config) string { return c.LogLevel }},
		// Empty in AWS; set only by local invocations.
		"DYNAMODB_ENDPOINT": {"", func(c config.Config) string { return c.DynamoDBEndpoint }},
		"KMS_ENDPOINT":      {"", func(c config.Config) string { return c.KMSEndpoint }},
		// Generated per stack in Secrets Manager; the function reads it at
		// cold start (config.ReadCursorSecret).
		"CURSOR_SECRET_ARN":        {"Ref CursorSecret", func(c config.Config) string { return c.CursorSecretARN }},
		"AUDIT_TABLE_NAME":         {"Ref AuditTable", func(c config.Config) string { return c.AuditTableName }},
		"AUDIT_RETENTION_DAYS":     {"Ref AuditRetentionDays", func(c config.Config) string { return strconv.Itoa(c.AuditRetentionDays) }},
		"SECRET_SCANNING_KEYS_URL": {"Ref SecretScanningKeysURL", func(c config.Config) string { return c.SecretScanningKeysURL }},
		"TOKEN_RATE_LIMIT":         {"Ref TokenRateLimit", func(c config.Config) string { return strconv.Itoa(c.TokenRateLimit) }},
	}
	// Variables only some functions get: the cursor secret, GitHub's key
	// document, and the other keys whose tokens verify to those that read
	// public keys.
	onlyFor := map[string][]string{"CURSOR_SECRET_ARN": {app.APIKeysFunction}, "SECRET_SCANNING_KEYS_URL": {app.SecretScanningFunction}, "KMS_VERIFY_KEY_IDS": verifiers(), "TOKEN_RATE_LIMIT": {app.TokenFunction}}
	for _, fn := range tpl.Functions() {
		env := tpl.Environment(fn)
		var names []string
		for name := range want {
			if only, ok := onlyFor[name]; !ok || slices.Contains(only, fn) {
				names = append(names, name)
			}
		}
		if got := slices.Sorted(maps.Keys(env)); !equalSets(got, names) {
			slices.Sort(names)
			t.Errorf("%s environment = %v, want exactly %v", fn, got, names)
		}
		for name, node := range env {
			if w, ok := want[name]; ok && resolve(t, tpl, node, samtemplate.Params{}) != w.template {
				t.Errorf("%s: %s = %s, want %s", fn, name, samtemplate.Describe(node), w.template)
			}
			// A dynamic reference is resolved at deploy time into the
			// function's configuration, in plain text for anyone who may
			// read it: secrets are read at run time instead.
			if b, _ := yaml.Marshal(node); strings.Contains(string(b), "{{resolve:") {
				t.Errorf("%s: %s resolves a secret into the function's configuration: %s", fn, name, samtemplate.Describe(node))
			}
		}
	}
	// A distinct value per variable (STAGE must be a valid stage, and
	// production is not the default).
	value := func(name string) string {
		switch name {
		case "STAGE":
			return string(apikey.Production)
		case "AUDIT_RETENTION_DAYS":
			return "400"
		case "TOKEN_RATE_LIMIT":
			return "123"
		}
		return "value-of-" + name
	}
	for name := range want {
		t.Setenv(name, value(name))
	}
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		if got := w.read(cfg); got != value(name) {
			t.Errorf("config does not read %s: got %q, want %q", name, got, value(name))
		}
	}
}

func TestRoutesMatchTheGoRouters(t *testing.T) {
	tpl := load(t)
	if got := tpl.Functions(); !equalSets(got, slices.Collect(maps.Keys(servedRoutes))) {
		t.Fatalf("template functions %v, Go functions %v", got, slices.Sorted(maps.Keys(servedRoutes)))
	}
	// The token function's router answers anything unmatched with the JSON
	// 404, so it also takes API Gateway's catch-all route.
	want := map[string]string{samtemplate.DefaultRoute: app.TokenFunction} // route -> function
	for fn, routes := range servedRoutes {
		for _, r := range routes {
			want[r] = fn
		}
	}
	got := map[string]string{}
	for _, r := range tpl.Routes() {
		if prev, dup := got[r.Key()]; dup {
			t.Errorf("%s is routed to both %s and %s", r.Key(), prev, r.Function)
		}
		got[r.Key()] = r.Function
		if v := samtemplate.Describe(samtemplate.Get(r.Properties, "ApiId")); v != "Ref HttpApi" {
			t.Errorf("%s: ApiId = %s, want Ref HttpApi", r.Key(), v)
		}
		if v := samtemplate.Describe(samtemplate.Get(r.Properties, "PayloadFormatVersion")); v != "2.0" {
			t.Errorf("%s: PayloadFormatVersion = %s, want 2.0", r.Key(), v)
		}
	}
	for r, fn := range want {
		if got[r] != fn {
			t.Errorf("the %s router serves %s but template.yaml routes it to %q", fn, r, got[r])
		}
	}
	for r, fn := range got {
		if want[r] != fn {
			t.Errorf("template.yaml routes %s to %s, whose router does not serve it", r, fn)
		}
	}
}

func TestEveryFunctionHasAMakefileBuildTarget(t *testing.T) {
	tpl := load(t)
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	if got := tpl.Functions(); !equalSets(got, lambdalocal.FunctionIDs()) {
		t.Fatalf("template functions %v, lambdalocal.Packages %v", got, lambdalocal.FunctionIDs())
	}
	for _, fn := range tpl.Functions() {
		if got := samtemplate.Describe(samtemplate.Get(tpl.Resource(fn), "Metadata", "BuildMethod")); got != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod = %s, want makefile", fn, got)
		}
		// What `sam build` will run: make build-<LogicalId> with ARTIFACTS_DIR.
		out, err := exec.Command("make", "-C", root, "-s", "-n", "build-"+fn, "ARTIFACTS_DIR=/artifacts").CombinedOutput()
		if err != nil {
			t.Errorf("make build-%s: %v\n%s", fn, err, out)
			continue
		}
		want := `GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o /artifacts/bootstrap ` + lambdalocal.Packages[fn]
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("make build-%s runs\n  %s\nwant\n  %s", fn, got, want)
		}
	}
}

func TestTableMatchesTheStoreAndIsRetainedInProduction(t *testing.T) {
	tpl := load(t)
	table := tpl.Resource("Table")
	if got := tpl.ResourceType("Table"); got != "AWS::DynamoDB::Table" {
		t.Fatalf("Table is %s", got)
	}
	props := must(t, table, "Properties")
	if got := samtemplate.Describe(samtemplate.Get(props, "BillingMode")); got != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %s", got)
	}
	keySchema := func(n *yaml.Node) []string {
		var out []string
		for _, k := range n.Content {
			out = append(out, samtemplate.Get(k, "AttributeName").Value+" "+samtemplate.Get(k, "KeyType").Value)
		}
		return out
	}
	if got, want := keySchema(must(t, props, "KeySchema")), []string{dynamostore.AttrPK + " HASH", dynamostore.AttrSK + " RANGE"}; !slices.Equal(got, want) {
		t.Errorf("KeySchema = %v, want %v", got, want)
	}
	var attrs []string
	for _, a := range must(t, props, "AttributeDefinitions").Content {
		attrs = append(attrs, samtemplate.Get(a, "AttributeName").Value+" "+samtemplate.Get(a, "AttributeType").Value)
	}
	if want := []string{dynamostore.AttrPK + " S", dynamostore.AttrSK + " S", dynamostore.AttrGSI1PK + " S", dynamostore.AttrGSI1SK + " S"}; !equalSets(attrs, want) {
		t.Errorf("AttributeDefinitions = %v, want %v", attrs, want)
	}
	gsis := must(t, props, "GlobalSecondaryIndexes").Content
	if len(gsis) != 1 {
		t.Fatalf("%d GSIs, want 1", len(gsis))
	}
	if got := samtemplate.Describe(samtemplate.Get(gsis[0], "IndexName")); got != dynamostore.IndexGSI1 {
		t.Errorf("IndexName = %s", got)
	}
	if got, want := keySchema(must(t, gsis[0], "KeySchema")), []string{dynamostore.AttrGSI1PK + " HASH", dynamostore.AttrGSI1SK + " RANGE"}; !slices.Equal(got, want) {
		t.Errorf("GSI KeySchema = %v, want %v", got, want)
	}
	if got := samtemplate.Describe(samtemplate.Get(gsis[0], "Projection", "ProjectionType")); got != "ALL" {
		t.Errorf("GSI projection = %s", got)
	}
	if got := samtemplate.Describe(samtemplate.Get(props, "TimeToLiveSpecification", "AttributeName")); got != dynamostore.AttrTTL {
		t.Errorf("TTL attribute = %s, want %s", got, dynamostore.AttrTTL)
	}
	if got := samtemplate.Describe(samtemplate.Get(props, "TimeToLiveSpecification", "Enabled")); got != "true" {
		t.Errorf("TTL Enabled = %s", got)
	}

	for _, c := range []struct {
		params                samtemplate.Params
		policy, protect, pitr string
	}{
		{production, "Retain", "true", "true"},
		{sandbox, "Delete", "false", "true"},
	} {
		stage := c.params["Stage"]
		for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			if got := resolve(t, tpl, samtemplate.Get(table, attr), c.params); got != c.policy {
				t.Errorf("%s: Table %s = %s, want %s", stage, attr, got, c.policy)
			}
		}
		if got := resolve(t, tpl, samtemplate.Get(props, "DeletionProtectionEnabled"), c.params); got != c.protect {
			t.Errorf("%s: DeletionProtectionEnabled = %s, want %s", stage, got, c.protect)
		}
		if got := resolve(t, tpl, samtemplate.Get(props, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), c.params); got != c.pitr {
			t.Errorf("%s: PointInTimeRecoveryEnabled = %s, want %s", stage, got, c.pitr)
		}
	}
}

func TestKMSKeysAndAliases(t *testing.T) {
	tpl := load(t)
	for _, k := range []struct{ id, spec, usage, alias string }{
		{"DataKey", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "DataKeyAlias"},
		{"SigningKey", "ECC_NIST_P256", "SIGN_VERIFY", "SigningKeyAlias"},
	} {
		key := tpl.Resource(k.id)
		if got := tpl.ResourceType(k.id); got != "AWS::KMS::Key" {
			t.Fatalf("%s is %q", k.id, got)
		}
		props := must(t, key, "Properties")
		if got := samtemplate.Describe(samtemplate.Get(props, "KeySpec")); got != k.spec {
			t.Errorf("%s KeySpec = %s, want %s", k.id, got, k.spec)
		}
		if got := samtemplate.Describe(samtemplate.Get(props, "KeyUsage")); got != k.usage {
			t.Errorf("%s KeyUsage = %s, want %s", k.id, got, k.usage)
		}
		policy := must(t, props, "KeyPolicy", "Statement")
		if len(policy.Content) == 0 {
			t.Errorf("%s has an empty key policy", k.id)
		}
		// Losing the data key loses every sealed value: production keeps both keys.
		for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			if got := resolve(t, tpl, samtemplate.Get(key, attr), production); got != "Retain" {
				t.Errorf("production: %s %s = %s, want Retain", k.id, attr, got)
			}
		}
		if got := tpl.ResourceType(k.alias); got != "AWS::KMS::Alias" {
			t.Fatalf("%s is %q", k.alias, got)
		}
		aliasName := samtemplate.Describe(samtemplate.Get(tpl.Resource(k.alias), "Properties", "AliasName"))
		if !strings.HasPrefix(aliasName, "Fn::Sub alias/") || !strings.Contains(aliasName, "${Stage}") {
			t.Errorf("%s AliasName = %s, want a per-stage alias/...${Stage}...", k.alias, aliasName)
		}
		if got := resolve(t, tpl, samtemplate.Get(tpl.Resource(k.alias), "Properties", "TargetKeyId"), samtemplate.Params{}); got != "Ref "+k.id {
			t.Errorf("%s TargetKeyId = %s", k.alias, got)
		}
	}
	if got := samtemplate.Describe(samtemplate.Get(tpl.Resource("DataKey"), "Properties", "EnableKeyRotation")); got != "true" {
		t.Errorf("DataKey EnableKeyRotation = %s", got)
	}
}

func TestHttpAPI(t *testing.T) {
	tpl := load(t)
	if got := tpl.ResourceType("HttpApi"); got != "AWS::Serverless::HttpApi" {
		t.Fatalf("HttpApi is %q", got)
	}
	props := must(t, tpl.Resource("HttpApi"), "Properties")
	for key, param := range map[string]string{"ThrottlingBurstLimit": "ThrottlingBurstLimit", "ThrottlingRateLimit": "ThrottlingRateLimit"} {
		if got := samtemplate.Describe(samtemplate.Get(props, "DefaultRouteSettings", key)); got != "Ref "+param {
			t.Errorf("DefaultRouteSettings.%s = %s", key, got)
		}
	}
	// A stage name would prefix every rawPath and break the Go routers.
	if samtemplate.Get(props, "StageName") != nil {
		t.Errorf("HttpApi must use the $default stage")
	}

	dest := samtemplate.Describe(samtemplate.Get(props, "AccessLogSettings", "DestinationArn"))
	group, ok := strings.CutPrefix(dest, "Fn::GetAtt ")
	group, _ = strings.CutSuffix(group, ".Arn")
	if !ok || tpl.ResourceType(group) != "AWS::Logs::LogGroup" {
		t.Fatalf("AccessLogSettings.DestinationArn = %s, want a log group's Arn", dest)
	}
	checkRetention(t, tpl, group)
	var format map[string]string
	if err := json.Unmarshal([]byte(must(t, props, "AccessLogSettings", "Format").Value), &format); err != nil {
		t.Fatalf("access log Format is not JSON: %v", err)
	}
	for _, field := range []string{"requestId", "routeKey", "status", "integrationLatency"} {
		if !strings.HasPrefix(format[field], "$context.") {
			t.Errorf("access log has no %s", field)
		}
	}
	for field, v := range format {
		if strings.Contains(strings.ToLower(v), "header") || strings.Contains(strings.ToLower(v), "authorizer") {
			t.Errorf("access log field %s logs %s: credentials must not reach the logs", field, v)
		}
	}

	cors := must(t, props, "CorsConfiguration")
	if got := resolve(t, tpl, cors, samtemplate.Params{}); got != "<no value>" {
		t.Errorf("CORS is on by default: %s", got)
	}
	on, err := tpl.Resolve(cors, samtemplate.Params{"CorsAllowOrigin": "https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got := samtemplate.Get(on, "AllowOrigins"); got == nil || len(got.Content) != 1 || samtemplate.Describe(got.Content[0]) != "Ref CorsAllowOrigin" {
		t.Errorf("with CorsAllowOrigin set, AllowOrigins = %s", samtemplate.Describe(got))
	}
}

func TestCustomDomainIsOptional(t *testing.T) {
	tpl := load(t)
	for id, typ := range map[string]string{"ApiDomain": "AWS::ApiGatewayV2::DomainName", "ApiDomainMapping": "AWS::ApiGatewayV2::ApiMapping"} {
		if got := tpl.ResourceType(id); got != typ {
			t.Errorf("%s is %q, want %s", id, got, typ)
		}
		if got := samtemplate.Describe(samtemplate.Get(tpl.Resource(id), "Condition")); got != "HasCustomDomain" {
			t.Errorf("%s Condition = %s, want HasCustomDomain", id, got)
		}
	}
	conf := must(t, tpl.Resource("ApiDomain"), "Properties", "DomainNameConfigurations").Content[0]
	if got := samtemplate.Describe(samtemplate.Get(conf, "CertificateArn")); got != "Ref CertificateArn" {
		t.Errorf("CertificateArn = %s", got)
	}
	if got := samtemplate.Describe(samtemplate.Get(tpl.Resource("ApiDomainMapping"), "Properties", "ApiId")); got != "Ref HttpApi" {
		t.Errorf("ApiDomainMapping ApiId = %s", got)
	}
}

func TestFunctionLogGroups(t *testing.T) {
	tpl := load(t)
	for _, fn := range tpl.Functions() {
		ref := samtemplate.Describe(samtemplate.Get(tpl.Resource(fn), "Properties", "LoggingConfig", "LogGroup"))
		group, ok := strings.CutPrefix(ref, "Ref ")
		if !ok || tpl.ResourceType(group) != "AWS::Logs::LogGroup" {
			t.Errorf("%s: LoggingConfig.LogGroup = %s, want its own log group", fn, ref)
			continue
		}
		checkRetention(t, tpl, group)
	}
}

func checkRetention(t *testing.T, tpl *samtemplate.Template, group string) {
	t.Helper()
	if got := samtemplate.Describe(samtemplate.Get(tpl.Resource(group), "Properties", "RetentionInDays")); got != "Ref LogRetentionDays" {
		t.Errorf("%s RetentionInDays = %s, want Ref LogRetentionDays", group, got)
	}
}

func TestOutputs(t *testing.T) {
	tpl := load(t)
	outputs := must(t, tpl.Root, "Outputs")
	for name, want := range map[string]string{
		"TableName":     "Ref Table",
		"DataKeyArn":    "Fn::GetAtt DataKey.Arn",
		"SigningKeyArn": "Fn::GetAtt SigningKey.Arn",
	} {
		if got := resolve(t, tpl, samtemplate.Get(outputs, name, "Value"), samtemplate.Params{}); got != want {
			t.Errorf("output %s = %s, want %s", name, got, want)
		}
	}
	url := must(t, outputs, "ApiUrl", "Value")
	if got := resolve(t, tpl, url, samtemplate.Params{}); !strings.Contains(got, "${HttpApi}.execute-api.") {
		t.Errorf("ApiUrl without a custom domain = %s", got)
	}
	if got := resolve(t, tpl, url, samtemplate.Params{"CustomDomainName": "api.example.com"}); got != "Fn::Sub https://${CustomDomainName}" {
		t.Errorf("ApiUrl with a custom domain = %s", got)
	}
}

func TestGetDescribesIntrinsicsInBothForms(t *testing.T) {
	var doc yaml.Node
	src := "a: !GetAtt T.Arn\nb: {\"Fn::GetAtt\": [T, Arn]}\nc: !Ref X\nd: {Ref: X}\ne: plain\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0]
	for key, want := range map[string]string{"a": "Fn::GetAtt T.Arn", "b": "Fn::GetAtt T.Arn", "c": "Ref X", "d": "Ref X", "e": "plain"} {
		if got := samtemplate.Describe(samtemplate.Get(m, key)); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
	if got := samtemplate.Describe(samtemplate.Get(m, "missing")); got != "<absent>" {
		t.Errorf("missing: %s", got)
	}
}
