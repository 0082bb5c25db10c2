// Command apikeys is the Lambda function that serves the /v1/api-keys routes.
// It only wires configuration, clients and handler, then starts.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
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
	deps.Verifier = deps.NewVerifier() // its keys are fetched while the cursor secret is read
	if err := deps.Config.ReadCursorSecret(context.Background(), clients.SecretsManager); err != nil {
		log.Error("cursor secret", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(deps.APIKeys()).ProxyWithContext)
}
