package samtemplate_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/dynamostore"
	"github.com/flexfactor/credplane/pkg/metrics"
	"gopkg.in/yaml.v3"
)

// alarmMetric is a metric an alarm reads: on its own, or as one of a
// metric math expression's.
type alarmMetric struct {
	Namespace, Name string
	// Dims are the dimension values, rendered by Describe.
	Dims map[string]string
	// Stat is the statistic (Sum, p99, ...).
	Stat string
}

// alarmMetrics returns the metrics an AWS::CloudWatch::Alarm reads.
func alarmMetrics(props *yaml.Node) []alarmMetric {
	dims := func(list *yaml.Node) map[string]string {
		out := map[string]string{}
		if list != nil {
			for _, d := range list.Content {
				out[samtemplate.Describe(samtemplate.Get(d, "Name"))] = samtemplate.Describe(samtemplate.Get(d, "Value"))
			}
		}
		return out
	}
	if m := samtemplate.Get(props, "Metrics"); m != nil {
		var out []alarmMetric
		for _, q := range m.Content {
			metric := samtemplate.Get(q, "MetricStat", "Metric")
			if metric == nil {
				continue // an expression
			}
			out = append(out, alarmMetric{
				Namespace: samtemplate.Describe(samtemplate.Get(metric, "Namespace")),
				Name:      samtemplate.Describe(samtemplate.Get(metric, "MetricName")),
				Dims:      dims(samtemplate.Get(metric, "Dimensions")),
				Stat:      samtemplate.Describe(samtemplate.Get(q, "MetricStat", "Stat")),
			})
		}
		return out
	}
	stat := samtemplate.Get(props, "Statistic")
	if stat == nil {
		stat = samtemplate.Get(props, "ExtendedStatistic")
	}
	return []alarmMetric{{
		Namespace: samtemplate.Describe(samtemplate.Get(props, "Namespace")),
		Name:      samtemplate.Describe(samtemplate.Get(props, "MetricName")),
		Dims:      dims(samtemplate.Get(props, "Dimensions")),
		Stat:      samtemplate.Describe(stat),
	}}
}

// alarms returns the template's alarms by logical id.
func alarms(t *testing.T, tpl *samtemplate.Template) map[string]*yaml.Node {
	t.Helper()
	out := map[string]*yaml.Node{}
	for _, id := range samtemplate.Keys(must(t, tpl.Root, "Resources")) {
		if tpl.ResourceType(id) == "AWS::CloudWatch::Alarm" {
			out[id] = must(t, tpl.Resource(id), "Properties")
		}
	}
	if len(out) == 0 {
		t.Fatal("template.yaml has no alarm")
	}
	return out
}

// thresholds returns the AlarmThresholds mapping: stage -> key -> value.
func thresholds(t *testing.T, tpl *samtemplate.Template) map[string]map[string]float64 {
	t.Helper()
	m := must(t, tpl.Root, "Mappings", "AlarmThresholds")
	out := map[string]map[string]float64{}
	for _, stage := range samtemplate.Keys(m) {
		out[stage] = map[string]float64{}
		for _, k := range samtemplate.Keys(samtemplate.Get(m, stage)) {
			v, err := strconv.ParseFloat(samtemplate.Get(m, stage, k).Value, 64)
			if err != nil {
				t.Fatalf("AlarmThresholds.%s.%s: %v", stage, k, err)
			}
			out[stage][k] = v
		}
	}
	return out
}

// thresholdKey returns the key of !FindInMap [AlarmThresholds, !Ref Stage, key].
func thresholdKey(n *yaml.Node) (string, bool) {
	if n == nil || n.Tag != "!FindInMap" || len(n.Content) != 3 || n.Content[0].Value != "AlarmThresholds" || samtemplate.Describe(n.Content[1]) != "Ref Stage" {
		return "", false
	}
	return n.Content[2].Value, true
}

// TestAlarmsNotifyTheTopicWithStageThresholds: every alarm notifies the
// alarm topic when it fires and when it clears, stays quiet without data,
// and takes its threshold from the stage's row of AlarmThresholds, where
// production is never more lenient than the sandbox.
func TestAlarmsNotifyTheTopicWithStageThresholds(t *testing.T) {
	tpl := load(t)
	if got := tpl.ResourceType("AlarmTopic"); got != "AWS::SNS::Topic" {
		t.Fatalf("AlarmTopic is %q", got)
	}
	th := thresholds(t, tpl)
	if !equalSets(samtemplate.Keys(must(t, tpl.Root, "Mappings", "AlarmThresholds")), []string{"sandbox", "production"}) {
		t.Fatalf("AlarmThresholds stages: %v", samtemplate.Keys(must(t, tpl.Root, "Mappings", "AlarmThresholds")))
	}
	if !equalSets(slices.Collect(maps.Keys(th["sandbox"])), slices.Collect(maps.Keys(th["production"]))) {
		t.Errorf("the stages set different thresholds: %v, %v", slices.Collect(maps.Keys(th["sandbox"])), slices.Collect(maps.Keys(th["production"])))
	}
	used := map[string]bool{}
	names := map[string]string{}
	for id, props := range alarms(t, tpl) {
		for _, key := range []string{"AlarmActions", "OKActions"} {
			if got := samtemplate.Strings(samtemplate.Get(props, key)); len(got) != 1 || samtemplate.Describe(samtemplate.Get(props, key).Content[0]) != "Ref AlarmTopic" {
				t.Errorf("%s: %s = %s, want [!Ref AlarmTopic]", id, key, samtemplate.Describe(samtemplate.Get(props, key)))
			}
		}
		if got := samtemplate.Describe(samtemplate.Get(props, "TreatMissingData")); got != "notBreaching" {
			t.Errorf("%s: TreatMissingData = %s", id, got)
		}
		if got := samtemplate.Describe(samtemplate.Get(props, "ComparisonOperator")); got != "GreaterThanOrEqualToThreshold" {
			t.Errorf("%s: ComparisonOperator = %s", id, got)
		}
		name := samtemplate.Describe(samtemplate.Get(props, "AlarmName"))
		if !strings.HasPrefix(name, "Fn::Sub ${AWS::StackName}-") {
			t.Errorf("%s: AlarmName = %s, want !Sub ${AWS::StackName}-...", id, name)
		}
		if prev, dup := names[name]; dup {
			t.Errorf("%s and %s are both named %s", id, prev, name)
		}
		names[name] = id
		key, ok := thresholdKey(samtemplate.Get(props, "Threshold"))
		if !ok {
			t.Errorf("%s: Threshold = %s, want !FindInMap [AlarmThresholds, !Ref Stage, ...]", id, samtemplate.Describe(samtemplate.Get(props, "Threshold")))
			continue
		}
		used[key] = true
		sb, okS := th["sandbox"][key]
		pr, okP := th["production"][key]
		if !okS || !okP {
			t.Errorf("%s: AlarmThresholds has no %s for both stages", id, key)
		} else if pr > sb {
			t.Errorf("%s: production fires at %v, later than the sandbox (%v)", id, pr, sb)
		}
	}
	for key := range th["production"] {
		// ApiMinRequests is the API alarm's floor, inside its expression.
		if !used[key] && key != "ApiMinRequests" {
			t.Errorf("AlarmThresholds.%s is used by no alarm", key)
		}
	}
}

func TestAlarmEmailIsOptional(t *testing.T) {
	tpl := load(t)
	if d := must(t, tpl.Root, "Parameters", "AlarmEmail", "Default"); d.Value != "" {
		t.Errorf("AlarmEmail defaults to %q, want empty", d.Value)
	}
	for params, want := range map[string]bool{"": false, "oncall@example.com": true} {
		got, err := tpl.Condition("HasAlarmEmail", samtemplate.Params{"AlarmEmail": params})
		if err != nil || got != want {
			t.Errorf("HasAlarmEmail with %q = %v, %v; want %v", params, got, err, want)
		}
	}
	sub := tpl.Resource("AlarmEmailSubscription")
	if got := tpl.ResourceType("AlarmEmailSubscription"); got != "AWS::SNS::Subscription" {
		t.Fatalf("AlarmEmailSubscription is %q", got)
	}
	for key, want := range map[string]string{"Condition": "HasAlarmEmail", "Properties.Protocol": "email", "Properties.Endpoint": "Ref AlarmEmail", "Properties.TopicArn": "Ref AlarmTopic"} {
		if got := samtemplate.Describe(samtemplate.Get(sub, strings.Split(key, ".")...)); got != want {
			t.Errorf("AlarmEmailSubscription %s = %s, want %s", key, got, want)
		}
	}
}

// TestWhatIsAlarmed: the API's 5xx rate; each function's errors, throttles
// and p99 duration; the table's throttling and system errors on every
// operation pkg/dynamostore calls; and, from the functions' own metrics,
// dependency failures, a spike of refused token requests and any leak
// report, each on a dimension set the functions publish.
func TestWhatIsAlarmed(t *testing.T) {
	tpl := load(t)
	var read []alarmMetric
	for _, props := range alarms(t, tpl) {
		read = append(read, alarmMetrics(props)...)
	}
	has := func(namespace, name, stat string, dims map[string]string) bool {
		return slices.ContainsFunc(read, func(m alarmMetric) bool {
			return m.Namespace == namespace && m.Name == name && (stat == "" || m.Stat == stat) && reflect.DeepEqual(m.Dims, dims)
		})
	}
	want := func(namespace, name, stat string, dims map[string]string) {
		t.Helper()
		if !has(namespace, name, stat, dims) {
			t.Errorf("no alarm reads %s %s (%s) %v", namespace, name, stat, dims)
		}
	}
	api := map[string]string{"ApiId": "Ref HttpApi"}
	want("AWS/ApiGateway", "5xx", "Sum", api)
	want("AWS/ApiGateway", "Count", "Sum", api)
	for _, fn := range tpl.Functions() {
		dims := map[string]string{"FunctionName": "Ref " + fn}
		want("AWS/Lambda", "Errors", "Sum", dims)
		want("AWS/Lambda", "Throttles", "Sum", dims)
		want("AWS/Lambda", "Duration", "p99", dims)
	}
	table := map[string]string{"TableName": "Ref Table"}
	index := map[string]string{"TableName": "Ref Table", "GlobalSecondaryIndexName": dynamostore.IndexGSI1}
	for _, name := range []string{"ReadThrottleEvents", "WriteThrottleEvents"} {
		want("AWS/DynamoDB", name, "Sum", table)
		want("AWS/DynamoDB", name, "Sum", index)
	}
	client := reflect.TypeFor[dynamostore.Client]()
	for i := range client.NumMethod() {
		want("AWS/DynamoDB", "SystemErrors", "Sum", map[string]string{"TableName": "Ref Table", "Operation": client.Method(i).Name})
	}
	for _, name := range []string{metrics.DependencyFailures, metrics.TokensRefused, metrics.LeakReports} {
		want(metrics.Namespace, name, "Sum", map[string]string{metrics.DimStage: "Ref Stage"})
	}
	// An alarm on the functions' metrics names one of the dimension sets
	// they publish it under, or it watches a metric that never exists.
	for _, m := range read {
		if m.Namespace != metrics.Namespace {
			continue
		}
		def, ok := metrics.Lookup(m.Name)
		if !ok {
			t.Errorf("an alarm reads %s, which pkg/metrics does not publish", m.Name)
			continue
		}
		if !slices.ContainsFunc(def.Dimensions, func(set []string) bool { return equalSets(set, slices.Collect(maps.Keys(m.Dims))) }) {
			t.Errorf("an alarm reads %s by %v; it is published by %v", m.Name, slices.Collect(maps.Keys(m.Dims)), def.Dimensions)
		}
	}
}

// TestDashboardShowsWhatIsAlarmed: the dashboard body is JSON once its
// ${} references are substituted; its alarm widget shows every alarm, and
// it graphs every metric an alarm reads and every metric the functions
// publish.
func TestDashboardShowsWhatIsAlarmed(t *testing.T) {
	tpl := load(t)
	if got := tpl.ResourceType("Dashboard"); got != "AWS::CloudWatch::Dashboard" {
		t.Fatalf("Dashboard is %q", got)
	}
	body := samtemplate.Get(tpl.Resource("Dashboard"), "Properties", "DashboardBody")
	if body == nil || body.Tag != "!Sub" {
		t.Fatalf("DashboardBody = %s, want !Sub JSON", samtemplate.Describe(body))
	}
	src := body.Value
	substituted := regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(src, "x")
	var doc struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Alarms []string `json:"alarms"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(substituted), &doc); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v", err)
	}
	for _, ref := range regexp.MustCompile(`\$\{([^}]+)\}`).FindAllStringSubmatch(src, -1) {
		name, _, _ := strings.Cut(ref[1], ".")
		if tpl.Resource(name) == nil && samtemplate.Get(tpl.Root, "Parameters", name) == nil && !strings.HasPrefix(name, "AWS::") {
			t.Errorf("DashboardBody references ${%s}, which the template does not define", ref[1])
		}
	}
	var shown []string
	for _, w := range doc.Widgets {
		if w.Type == "alarm" {
			shown = append(shown, w.Properties.Alarms...)
		}
	}
	if len(shown) == 0 {
		t.Fatal("no alarm widget")
	}
	for id, props := range alarms(t, tpl) {
		if !strings.Contains(src, `"${`+id+`.Arn}"`) {
			t.Errorf("the alarm widget does not show %s", id)
		}
		for _, m := range alarmMetrics(props) {
			if !strings.Contains(src, `"`+m.Name+`"`) && !strings.Contains(src, `MetricName=\"`+m.Name+`\"`) {
				t.Errorf("the dashboard does not graph %s, which %s reads", m.Name, id)
			}
		}
	}
	for _, def := range metrics.Catalogue {
		if !strings.Contains(src, `"`+def.Name+`"`) && !strings.Contains(src, `MetricName=\"`+def.Name+`\"`) {
			t.Errorf("the dashboard does not graph %s", def.Name)
		}
	}
}
