package apitest

import (
	"context"
	"testing"
	"time"

	"github.com/flexfactor/credplane/infra/faultproxy"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/logging"
)

// Proxied returns the real stack on the emulators' stage with its AWS
// calls going through fault proxies (infra/faultproxy), every request
// within budget (0: the default), its logs captured; now may be nil. The
// proxies close when the test ends. Tests make DynamoDB or KMS slow or
// faulty through the returned proxies; benchmarks give them AWS-like
// latency.
func Proxied(t testing.TB, now func() time.Time, budget time.Duration) (app.Deps, *faultproxy.Stack) {
	t.Helper()
	e := Env()
	s, err := faultproxy.Start(e.Config.DynamoDBEndpoint, e.Config.KMSEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	cfg := e.Config
	cfg.DynamoDBEndpoint, cfg.KMSEndpoint, cfg.RequestBudget = s.DynamoDB.Endpoint(), s.KMS.Endpoint(), budget
	clients, err := config.NewClients(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return app.Deps{Config: cfg, Clients: clients, Log: logging.New(logs, "debug"), Now: now}, s
}
