package app_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/flexfactor/credplane/pkg/metrics/metricstest"
)

// invokeOnboard runs an onboard handler as Lambda would and returns the
// invocation's request id and error.
func invokeOnboard(onboard func(context.Context, app.OnboardEvent) (app.OnboardResult, error), ev app.OnboardEvent) (string, error) {
	id := "inv-" + rand.Text()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id})
	_, err := onboard(ctx, ev)
	return id, err
}

func newMID() string { return "mid_" + strings.ToLower(rand.Text()[:10]) }

// TestOnboardingsAreCounted: an invocation that onboards a merchant writes
// a metric line of the onboard function, joined to the invocation by its
// request id; one refused for its input writes none.
func TestOnboardingsAreCounted(t *testing.T) {
	onboard := apitest.Memory(nil).Onboard()
	invoke := func(ev app.OnboardEvent) string {
		id, err := invokeOnboard(onboard, ev)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ok := invoke(app.OnboardEvent{MID: newMID(), Name: "Acme"})
	l := metricstest.Of(t, apitest.Logs().String(), ok)[0]
	if v, _ := l.Value(metrics.MerchantsOnboarded); v != 1 || l.Label(metrics.DimFunction) != app.OnboardFunction || l.Label(metrics.DimStage) != "sandbox" {
		t.Fatalf("%v", l.Members)
	}

	refused := invoke(app.OnboardEvent{MID: "mid with spaces"})
	for _, l := range metricstest.Lines(t, apitest.Logs().String()) {
		if l.Label("request_id") == refused {
			t.Fatalf("a refused onboarding wrote a metric line: %v", l.Members)
		}
	}
}

// TestAFailedOnboardingCountsItsDependency: an onboarding that DynamoDB
// failed counts a dependency failure of DynamoDB in its line.
func TestAFailedOnboardingCountsItsDependency(t *testing.T) {
	id, err := invokeOnboard(apitest.DynamoDBDown(t).Onboard(), app.OnboardEvent{MID: newMID(), Name: "Acme"})
	if err == nil {
		t.Fatal("onboarded without DynamoDB")
	}
	l := metricstest.Of(t, apitest.Logs().String(), id)[0]
	if v, _ := l.Value(metrics.DependencyFailures); v != 1 || l.Label(metrics.DimService) != "DynamoDB" || l.Has(metrics.MerchantsOnboarded) {
		t.Fatalf("%v", l.Members)
	}
}
