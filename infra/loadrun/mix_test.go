package loadrun_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexfactor/credplane/infra/loadrun"
)

// fakeAPI answers every route at once with what the mix reads from real
// answers (tokens, key ids), and every delete with a 500.
func fakeAPI() http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/oauth2/token" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
			fmt.Fprintf(w, `{"access_token":"at%d","refresh_token":"rt_%d","errors":[]}`, id, id)
		case r.URL.Path == "/v1/oauth2/token":
			fmt.Fprintf(w, `{"accessToken":"at%d","refreshToken":"rt_%d","errors":[]}`, id, id)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"errors":["Internal error."]}`)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/api-keys":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":"key_%d","errors":[]}`, id)
		default:
			fmt.Fprint(w, `{"errors":[]}`)
		}
	})
}

func TestMixReachesEveryRoute(t *testing.T) {
	srv := httptest.NewServer(fakeAPI())
	defer srv.Close()
	res, err := loadrun.Run(context.Background(), loadrun.Options{
		Base: srv.URL, Merchants: []loadrun.Merchant{{MID: "mid_1", AppKey: "pk", AppSecret: "sk"}, {MID: "mid_2", AppKey: "pk2", AppSecret: "sk2"}},
		Clients: 4, Duration: time.Minute, MaxRequests: 4000,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res.Write(&out)
	if res.All.Metrics.Requests != 4000 {
		t.Fatalf("%d requests, want the budget's 4000:\n%s", res.All.Metrics.Requests, out.String())
	}
	for _, route := range []string{"token: pair, JSON", "token: pair, form", "token: refresh, JSON", "token: refresh, form", "revoke", "jwks",
		"create", "create idempotent", "create idempotent retry", "get", "list", "roll", "delete"} {
		rr := res.Routes[route]
		if rr == nil || rr.Metrics.Requests == 0 {
			t.Fatalf("no request on %s:\n%s", route, out.String())
		}
		// Deletes answer 500 here: each is a 5xx, and nothing else is.
		if want := map[bool]int{true: int(rr.Metrics.Requests), false: 0}[route == "delete"]; rr.ServerErrors != want || rr.OtherErrors != 0 {
			t.Errorf("%s: %d 5xx, %d other errors:\n%s", route, rr.ServerErrors, rr.OtherErrors, out.String())
		}
	}
	if res.All.ServerErrors != res.Routes["delete"].ServerErrors {
		t.Errorf("5xx over all routes: %d", res.All.ServerErrors)
	}
}
