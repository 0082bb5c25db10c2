// Command checktable checks the invariants between the items of a
// credential table (see infra/tablecheck) and exits 1 when any is broken:
//
//	go run ./infra/cmd/checktable -table credplane-sandbox-Table [-endpoint http://127.0.0.1:8000] [-region eu-west-1]
//
// It only reads (Scan and GetItem), with strongly consistent reads, so it
// may run against a production table; it uses the usual AWS credential
// chain, or dummy credentials when an endpoint (DynamoDB Local) is given.
// Exit codes: 0 no violation, 1 violations, 2 the check could not run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/flexfactor/credplane/infra/tablecheck"
	"github.com/flexfactor/credplane/pkg/config"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("checktable", flag.ContinueOnError)
	table := fs.String("table", os.Getenv("TABLE_NAME"), "the table to check (default $TABLE_NAME)")
	endpoint := fs.String("endpoint", os.Getenv("DYNAMODB_ENDPOINT"), "DynamoDB endpoint, e.g. DynamoDB Local's (default $DYNAMODB_ENDPOINT, else AWS)")
	region := fs.String("region", envOr("AWS_REGION", "us-east-1"), "AWS region")
	segments := fs.Int("segments", 1, "parallel scan segments")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *table == "" {
		fmt.Fprintln(os.Stderr, "checktable: -table (or TABLE_NAME) is required")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	clients, err := config.NewClients(ctx, config.Config{Region: *region, DynamoDBEndpoint: *endpoint})
	if err != nil {
		fmt.Fprintln(os.Stderr, "checktable:", err)
		return 2
	}
	rep, err := (&tablecheck.Checker{Client: clients.DynamoDB, Table: *table, Segments: *segments}).Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checktable:", err)
		return 2
	}
	where := "AWS, region " + *region
	if *endpoint != "" {
		where = *endpoint
	}
	fmt.Println("endpoint", where)
	rep.Write(os.Stdout)
	if len(rep.Violations) > 0 {
		return 1
	}
	return 0
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
