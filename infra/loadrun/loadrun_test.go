package loadrun_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flexfactor/credplane/infra/loadrun"
	"github.com/flexfactor/credplane/infra/tablecheck"
	"github.com/flexfactor/credplane/pkg/apitest"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// TestLoadSmoke drives the whole stack for two seconds with a few clients:
// every answer is a right one, and the table keeps its invariants. (How
// many requests two seconds hold depends on the machine; the mix's reach is
// TestMixReachesEveryRoute's.)
func TestLoadSmoke(t *testing.T) {
	srv := httptest.NewServer(apitest.App())
	defer srv.Close()
	var ms []loadrun.Merchant
	for range 2 {
		m := apitest.NewMerchant(t)
		ms = append(ms, loadrun.Merchant{MID: m.MID, AppKey: m.AppKey, AppSecret: m.AppSecret})
	}
	res, err := loadrun.Run(context.Background(), loadrun.Options{Base: srv.URL, Merchants: ms, Clients: 8, Duration: 2 * time.Second, MaxRequests: 20000})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res.Write(&out)
	if res.All.ServerErrors+res.All.OtherErrors > 0 || res.All.Metrics.Requests == 0 {
		t.Fatalf("answers:\n%s", out.String())
	}
	for _, route := range []string{"token: pair, JSON", "create"} {
		if rr := res.Routes[route]; rr == nil || rr.Metrics.Success == 0 {
			t.Errorf("no right answer on %s:\n%s", route, out.String())
		}
	}
	t.Log("\n" + out.String())

	env := apitest.Env()
	rep, err := (&tablecheck.Checker{Client: env.Clients.DynamoDB, Table: env.Config.TableName}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Violations) > 0 {
		t.Fatalf("violations after the load: %v", rep.Violations)
	}
}

func TestLoadGoesToLoopbackOnly(t *testing.T) {
	ms := []loadrun.Merchant{{MID: "m"}}
	for _, base := range []string{"http://10.0.0.1:3000", "http://example.com", "https://127.0.0.1:1", "http://192.168.1.1"} {
		_, err := loadrun.Run(context.Background(), loadrun.Options{Base: base, Merchants: ms, Clients: 1, Duration: time.Second, MaxRequests: 1})
		if err == nil || !strings.Contains(err.Error(), "loadrun:") {
			t.Errorf("%s: %v", base, err)
		}
	}
}
