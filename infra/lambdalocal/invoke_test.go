package lambdalocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/flexfactor/credplane/infra/lambdalocal"
	"github.com/flexfactor/credplane/infra/localenv"
	"github.com/flexfactor/credplane/infra/repo"
	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/logging"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/flexfactor/credplane/pkg/metrics/metricstest"
)

// env is the sandbox stage provisioned on the emulators for this package.
var env *localenv.Env

// buildDir holds the bootstraps built for the tests.
var buildDir string

func TestMain(m *testing.M) {
	var err error
	if buildDir, err = os.MkdirTemp("", "credplane-bootstraps-"); err != nil {
		panic(err)
	}
	code := localenv.Main(m, func(e *localenv.Env) { env = e })
	_ = os.RemoveAll(buildDir)
	os.Exit(code)
}

// fixture is the merchant whose credentials fill the events' placeholders.
var fixture = sync.OnceValues(func() (*lambdalocal.Fixtures, error) {
	deps := app.Deps{Config: env.Config, Clients: env.Clients, Log: logging.New(&bytes.Buffer{}, "error")}
	return lambdalocal.NewFixtures(context.Background(), deps, "mid_sample_events")
})

// functionEnv is the whole environment fn runs with on the local stage cfg:
// Lambda's own variables and the template's.
func functionEnv(tb testing.TB, tpl *samtemplate.Template, fn string, cfg config.Config) map[string]string {
	tb.Helper()
	fnEnv, err := lambdalocal.Environment(tpl, fn, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	env := lambdalocal.RuntimeEnvironment(tpl, fn)
	maps.Copy(env, fnEnv)
	return env
}

// built loads template.yaml and the bootstrap of each of its functions by
// logical id; the bootstraps are built once for the whole package.
func built(tb testing.TB) (*samtemplate.Template, map[string]string) {
	tb.Helper()
	tpl, err := samtemplate.LoadRepo()
	if err != nil {
		tb.Fatal(err)
	}
	bins, err := bootstraps()
	if err != nil {
		tb.Fatal(err)
	}
	return tpl, bins
}

var bootstraps = sync.OnceValues(func() (map[string]string, error) {
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	return lambdalocal.Build(context.Background(), root, buildDir, lambdalocal.FunctionIDs()...)
})

// eventFile is one file under events/.
type eventFile struct {
	name string // such as "create.json"
	raw  []byte
	// route is the API Gateway routeKey; empty for a direct invocation.
	route    string
	function string
}

func loadEvents(t *testing.T, tpl *samtemplate.Template) []eventFile {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no events/*.json: %v", err)
	}
	var out []eventFile
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ev := eventFile{name: filepath.Base(p), raw: raw, function: app.OnboardFunction}
		var probe struct {
			RouteKey string `json:"routeKey"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			t.Fatalf("%s: %v", ev.name, err)
		}
		if probe.RouteKey != "" {
			ev.route = probe.RouteKey
			ev.function = tpl.RouteFunction(probe.RouteKey)
		}
		out = append(out, ev)
	}
	return out
}

// TestEventsAreRealHTTPAPIEvents checks every API event against its route in
// template.yaml, and that every route has events; it needs no emulator.
func TestEventsAreRealHTTPAPIEvents(t *testing.T) {
	tpl, err := samtemplate.LoadRepo()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, ev := range loadEvents(t, tpl) {
		if _, ok := expectations[ev.name]; !ok {
			t.Errorf("%s: no expectation in this test: add one", ev.name)
		}
		if ev.route == "" {
			if !strings.HasPrefix(ev.name, "onboard") {
				t.Errorf("%s has no routeKey: only onboard*.json are direct invocations", ev.name)
			}
			continue
		}
		if ev.function == "" {
			t.Errorf("%s: route %q is not in template.yaml", ev.name, ev.route)
			continue
		}
		covered[ev.route] = true
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(ev.raw, &req); err != nil {
			t.Fatalf("%s: %v", ev.name, err)
		}
		method, pattern, _ := strings.Cut(ev.route, " ")
		rc := req.RequestContext
		if ev.route == samtemplate.DefaultRoute { // the catch-all: any method, any path
			method, pattern = rc.HTTP.Method, req.RawPath
		}
		switch {
		case req.Version != "2.0":
			t.Errorf("%s: version %q, want 2.0", ev.name, req.Version)
		case rc.RouteKey != req.RouteKey || rc.HTTP.Method != method || rc.Stage != "$default":
			t.Errorf("%s: requestContext (%s, %s, %s) does not match the route", ev.name, rc.RouteKey, rc.HTTP.Method, rc.Stage)
		case rc.HTTP.Path != req.RawPath || !pathMatches(pattern, req.RawPath, req.PathParameters):
			t.Errorf("%s: rawPath %s does not match %s with %v", ev.name, req.RawPath, pattern, req.PathParameters)
		case rc.RequestID == "":
			t.Errorf("%s: no requestContext.requestId", ev.name)
		}
		for name := range req.Headers {
			if name != strings.ToLower(name) {
				t.Errorf("%s: header %s: HTTP APIs send header names in lower case", ev.name, name)
			}
		}
	}
	for _, r := range tpl.Routes() {
		if !covered[r.Key()] {
			t.Errorf("route %s has no event under events/", r.Key())
		}
	}
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	for name := range expectations {
		if _, err := os.Stat(filepath.Join(root, "events", name)); err != nil {
			t.Errorf("expectation for %s, which does not exist", name)
		}
	}
}

// pathMatches reports whether path is pattern with its {params} filled.
func pathMatches(pattern, path string, params map[string]string) bool {
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i, seg := range ps {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			if params[strings.TrimSuffix(name, "}")] != qs[i] {
				return false
			}
		} else if seg != qs[i] {
			return false
		}
	}
	return true
}

// TestFunctionsUnderTheRIE builds each function's real bootstrap, runs it
// under the Lambda Runtime Interface Emulator against DynamoDB Local and
// local-kms, invokes it with every sample event of its routes, and checks
// the responses, the AWS calls it made and its logs. (Its init time is a
// speed figure: BenchmarkInit reports it.)
func TestFunctionsUnderTheRIE(t *testing.T) {
	if _, err := lambdalocal.FindRIE(); err != nil {
		t.Skipf("skipping the RIE invoke test: %v (make tools installs it)", err)
	}
	tpl, bins := built(t)
	fx, err := fixture()
	if err != nil {
		t.Fatal(err)
	}
	all := loadEvents(t, tpl)
	for _, fn := range tpl.Functions() {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			runFunction(t, tpl, fn, bins[fn], fx, all)
		})
	}
}

func runFunction(t *testing.T, tpl *samtemplate.Template, fn, bootstrap string, fx *lambdalocal.Fixtures, all []eventFile) {
	ctx := context.Background()
	// The function reaches the emulators through recording proxies, so the
	// test sees every AWS call it makes.
	calls := &awsCalls{}
	cfg := env.Config
	cfg.DynamoDBEndpoint = calls.proxy(t, "dynamodb", env.Config.DynamoDBEndpoint)
	cfg.KMSEndpoint = calls.proxy(t, "kms", env.Config.KMSEndpoint)
	cfg.LogLevel = "debug"
	rie, err := lambdalocal.StartRIE(ctx, bootstrap, functionEnv(t, tpl, fn, cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rie.Close()

	var secrets []string // values that must never reach a log
	invoked := 0
	for _, ev := range all {
		if ev.function != fn {
			continue
		}
		invoked++
		t.Run(strings.TrimSuffix(ev.name, ".json"), func(t *testing.T) {
			filled, values, err := fx.Fill(ctx, ev.raw)
			if err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			res, err := rie.Invoke(ctx, filled)
			if err != nil {
				t.Fatalf("%v\nfunction output:\n%s", err, rie.Output())
			}
			c := &check{t: t, event: ev, filled: filled, values: values, fx: fx, sent: sent, answered: time.Now()}
			c.decode(res.Payload)
			expectations[ev.name](c)
			secrets = append(secrets, c.secrets...)
		})
	}

	// Every call the binary made is granted to it in template.yaml (the
	// template test holds the template to app.Permissions).
	granted := app.Permissions[fn]
	made := calls.actions()
	for _, a := range made {
		if !slices.Contains(granted, a) {
			t.Errorf("%s calls %s, which app.Permissions (and so its IAM role) does not grant", fn, a)
		}
	}
	for _, a := range granted {
		if !slices.Contains(made, a) {
			t.Logf("%s: %s is granted but no sample event exercised it", fn, a)
		}
	}
	// ... and its statements in template.yaml, conditions included (the
	// partitions and attributes a grant is narrowed to), allow each item
	// it reached.
	statements, err := tpl.Statements(fn)
	if err != nil {
		t.Fatal(err)
	}
	for _, access := range calls.itemAccesses() {
		allowed := false
		for _, st := range statements {
			ok, err := st.Allows(access)
			if err != nil {
				t.Fatal(err)
			}
			allowed = allowed || ok
		}
		if !allowed {
			t.Errorf("%s: %s on %v (attributes %v) is not allowed by its statements in template.yaml", fn, access.Action, access.LeadingKeys, access.Attributes)
		}
	}

	out := rie.Output()
	for _, s := range append(secrets, fx.Merchant.AppSecret, fx.AccessToken) {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("a secret value or token reached %s's logs", fn)
		}
	}
	checkMetricLines(t, fn, out, invoked)
}

// checkMetricLines wants the function's log output to hold its metric
// lines, in the EMF shape CloudWatch Logs extracts metrics from: one per
// request for an HTTP function, one per onboarding for the onboard one.
func checkMetricLines(t *testing.T, fn, out string, invoked int) {
	t.Helper()
	lines := metricstest.Lines(t, out)
	for _, l := range lines {
		if l.Label(metrics.DimFunction) != fn || l.Label(metrics.DimStage) != string(env.Config.Stage) {
			t.Errorf("%s wrote a metric line of %s/%s", fn, l.Label(metrics.DimStage), l.Label(metrics.DimFunction))
		}
	}
	want, metric := invoked, metrics.Requests
	if fn == app.OnboardFunction {
		want, metric = 1, metrics.MerchantsOnboarded // onboard.json onboards; the invalid event writes none
	}
	if got := len(metricstest.Find(lines, metric)); got != want {
		t.Errorf("%s: %d metric lines with %s for %d invocations, want %d", fn, got, metric, invoked, want)
	}
}
