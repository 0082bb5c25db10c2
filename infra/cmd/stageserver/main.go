// Command stageserver serves every route (app.Deps.All) of a stage that
// already exists, configured from the environment exactly as the Lambda
// functions are (TABLE_NAME, AUDIT_TABLE_NAME, KMS_DATA_KEY_ID, KMS_SIGNING_KEY_ID, STAGE,
// TOKEN_ISSUER, DYNAMODB_ENDPOINT, KMS_ENDPOINT...):
//
//	stageserver [-addr 127.0.0.1:0]
//
// Unlike infra/devserver it starts no emulator and provisions nothing, so
// it can be stopped, killed and started again on the same table (the crash
// tests do). Once it accepts connections it prints "listening on <addr>"
// on stdout; its JSON logs follow on stdout. SIGINT or SIGTERM shut it down.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/logging"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stageserver:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	clients, err := config.NewClients(ctx, cfg)
	if err != nil {
		return err
	}
	deps := app.Deps{Config: cfg, Clients: clients, Log: logging.New(os.Stdout, cfg.LogLevel)}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: deps.All(), ReadHeaderTimeout: 5 * time.Second}
	drained := make(chan error, 1)
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		drained <- srv.Shutdown(shutdown)
	}()
	fmt.Println("listening on", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-drained
}
