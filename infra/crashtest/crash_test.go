package crashtest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexfactor/credplane/infra/tablecheck"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// workers is how many clients send requests at once.
const workers = 4

func envInt(t *testing.T, name string, def int64) int64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q is not a number", name, v)
	}
	return n
}

func TestSIGKILLUnderTrafficLeavesTheTableConsistent(t *testing.T) {
	cycles := envInt(t, "CRASH_CYCLES", 10)
	seed := envInt(t, "CRASH_SEED", time.Now().UnixNano())
	t.Logf("CRASH_CYCLES=%d CRASH_SEED=%d", cycles, seed)
	bin := buildServer(t)
	logPath := filepath.Join(t.TempDir(), "server.log")
	w := newWorkload(apitest.NewMerchant(t), uint64(seed))
	ctx := context.Background()

	srv := startServer(t, bin, logPath)
	w.base = srv.base
	if err := w.login(ctx); err != nil {
		t.Fatal(err)
	}
	for range cycles {
		var wg sync.WaitGroup
		for range workers {
			// Each client sends requests until one gets no answer.
			wg.Go(func() {
				for w.step(ctx) == nil {
				}
			})
		}
		time.Sleep(time.Duration(20+w.intn(400)) * time.Millisecond)
		srv.kill()
		wg.Wait()

		srv = startServer(t, bin, logPath)
		w.mu.Lock()
		w.base = srv.base
		w.mu.Unlock()
		if err := w.recover(ctx); err != nil {
			t.Fatalf("after a restart: %v", err)
		}
	}
	settle(t, w)
	assertOneKeyEach(t, w)
	srv.kill()

	if len(w.defects) > 0 {
		t.Errorf("%d unexpected answers, the first: %s", len(w.defects), strings.Join(w.defects[:min(5, len(w.defects))], "\n"))
	}
	t.Logf("%d crashes; answers by request: %s", cycles, summary(w.statuses))
	env := apitest.Env()
	rep, err := (&tablecheck.Checker{Client: env.Clients.DynamoDB, Table: env.Config.TableName}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Write(&out)
	if len(rep.Violations) > 0 {
		t.Fatalf("the table after %d crashes:\n%s", cycles, out.String())
	}
	t.Logf("the table after %d crashes:\n%s", cycles, out.String())
}

// settle retries every idempotent create without a 201 until it gets one.
// A create that died holding its claim keeps the key locked for
// apikey.IdempotencyLock; then a retry takes the claim over.
func settle(t *testing.T, w *workload) {
	t.Helper()
	deadline := time.Now().Add(apikey.IdempotencyLock + 15*time.Second)
	for {
		left := w.unsettled()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d idempotent creates still unanswered after the lock passed", len(left))
		}
		for _, c := range left {
			if err := w.createIdempotent(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second)
	}
}

// assertOneKeyEach checks that each idempotent create answered one key id
// however often it was sent, and that the merchant has exactly one key of
// its name.
func assertOneKeyEach(t *testing.T, w *workload) {
	t.Helper()
	names := map[string]int{}
	path := "/v1/api-keys?status=all&limit=100&mid=" + w.m.MID
	for path != "" {
		a, err := w.do(context.Background(), "list all", "GET", path, w.bearer(), "")
		if err != nil || a.status != 200 {
			t.Fatalf("list: %v %d %v", err, a.status, a.body)
		}
		for _, k := range a.body["keys"].([]any) {
			names[k.(map[string]any)["name"].(string)]++
		}
		path = ""
		if next, ok := a.body["next_cursor"].(string); ok {
			path = "/v1/api-keys?status=all&limit=100&mid=" + w.m.MID + "&cursor=" + next
		}
	}
	retried, lost := 0, 0
	for _, c := range w.idem {
		if len(c.ids) != 1 || names[c.name] != 1 {
			t.Errorf("idempotent create %s: answered ids %v, %d keys named %s", c.key, slices.Collect(maps.Keys(c.ids)), names[c.name], c.name)
		}
		if c.sent > 1 {
			retried++
		}
		if c.lost > 0 {
			lost++
		}
	}
	t.Logf("%d idempotent creates, %d of them sent again (%d had lost an answer to a crash): one key each", len(w.idem), retried, lost)
}

func summary(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
