// Command onboard is the Lambda function that is invoked directly by operators (no HTTP route) to issue a new merchant's first key pair.
// It only wires configuration, clients and handler, then starts.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/logging"
)

func main() {
	log := logging.New(os.Stdout, os.Getenv("LOG_LEVEL"))
	cfg, err := config.FromEnv()
	if err != nil {
		log.Error("bad configuration", "error", err.Error())
		os.Exit(1)
	}
	clients, err := config.NewClients(context.Background(), cfg)
	if err != nil {
		log.Error("aws clients", "error", err.Error())
		os.Exit(1)
	}
	deps := app.Deps{Config: cfg, Clients: clients, Log: log, Metrics: os.Stdout}
	lambda.Start(deps.Onboard())
}
