// Command load is `make load`: it starts DynamoDB Local and local-kms,
// provisions a fresh sandbox stage, serves every route in this process on
// 127.0.0.1, onboards merchants, and drives the routes with concurrent
// clients (infra/loadrun). Then it checks the table (infra/tablecheck) and
// prints requests per second and latency per route, 5xx and other errors,
// and the process's peak RSS. It fails on any 5xx and on any violation.
//
// LOAD_DURATION (default 60s), LOAD_CLIENTS (64), LOAD_MERCHANTS (8) and
// LOAD_MAX_REQUESTS (2000000) bound the run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/infra/loadrun"
	"github.com/flexfactor/credplane/infra/localenv"
	"github.com/flexfactor/credplane/infra/tablecheck"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/logging"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run() error {
	duration, err := time.ParseDuration(envOr("LOAD_DURATION", "60s"))
	if err != nil {
		return fmt.Errorf("LOAD_DURATION: %w", err)
	}
	clients, merchants, budget := envInt("LOAD_CLIENTS", 64), envInt("LOAD_MERCHANTS", 8), envInt("LOAD_MAX_REQUESTS", 2_000_000)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	stack, err := emulator.Start(ctx, emulator.Options{})
	if err != nil {
		return err
	}
	defer stack.Close()
	env, err := localenv.Provision(ctx, stack.DynamoDBEndpoint, stack.KMSEndpoint, apikey.Sandbox)
	if err != nil {
		return err
	}
	// Log as a function does (JSON, info), to nowhere.
	// The load is many clients of a few keys: the per-key token limit
	// would refuse most exchanges, which is not what this run measures.
	env.Config.TokenRateLimit = 1 << 30
	deps := app.Deps{Config: env.Config, Clients: env.Clients, Log: logging.New(io.Discard, "info")}
	var ms []loadrun.Merchant
	for i := range merchants {
		res, err := deps.Onboard()(ctx, app.OnboardEvent{MID: fmt.Sprintf("mid_load_%d", i), Name: "Load merchant"})
		if err != nil || !res.Success {
			return fmt.Errorf("onboard: %v %v", err, res.Errors)
		}
		ms = append(ms, loadrun.Merchant{MID: res.MID, AppKey: res.AppKey, AppSecret: res.AppSecret})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: deps.All(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	fmt.Printf("load: %d clients for %s (at most %d requests) on http://%s, %d merchants, table %s\n",
		clients, duration, budget, ln.Addr(), merchants, env.Config.TableName)
	res, err := loadrun.Run(ctx, loadrun.Options{Base: "http://" + ln.Addr().String(), Merchants: ms, Clients: clients, Duration: duration, MaxRequests: uint64(budget)})
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	if err != nil {
		return err
	}
	res.Write(os.Stdout)
	if rss, err := loadrun.PeakRSS(); err == nil {
		fmt.Printf("peak RSS of this process (server and load generator): %.1f MiB\n", float64(rss)/(1<<20))
	}

	rep, err := (&tablecheck.Checker{Client: env.Clients.DynamoDB, Table: env.Config.TableName, Segments: 2}).Run(ctx)
	if err != nil {
		return err
	}
	rep.Write(os.Stdout)
	var errs []error
	if n := res.All.ServerErrors; n > 0 {
		errs = append(errs, fmt.Errorf("%d answers were 5xx", n))
	}
	if n := len(rep.Violations); n > 0 {
		errs = append(errs, fmt.Errorf("%d invariant violations in the table", n))
	}
	return errors.Join(errs...)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
