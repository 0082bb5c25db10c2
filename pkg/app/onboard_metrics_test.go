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

// TestOnboardingsAreCounted: an invocation that onboards a merchant writes
// a metric line of the onboard function, joined to the invocation by its
// request id; one refused for its input writes none.
func TestOnboardingsAreCounted(t *testing.T) {
	onboard := apitest.Memory(nil).Onboard()
	invoke := func(ev app.OnboardEvent) string {
		id := "inv-" + rand.Text()
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id})
		if _, err := onboard(ctx, ev); err != nil {
			t.Fatal(err)
		}
		return id
	}
	ok := invoke(app.OnboardEvent{MID: "mid_" + strings.ToLower(rand.Text()[:10]), Name: "Acme"})
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
