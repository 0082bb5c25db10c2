// Command apikeys is the Lambda function that serves the /v1/api-keys routes.
// It only wires configuration, clients and handler, then starts.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/flexfactor/credplane/pkg/app"
)

func main() {
	deps, err := app.FromEnvironment(context.Background())
	if err != nil {
		deps.Log.Error("cold start", "error", err.Error())
		os.Exit(1)
	}
	deps.Verifier = deps.NewVerifier() // its keys are fetched while the cursor secret is read
	if err := deps.Config.ReadCursorSecret(context.Background(), deps.Clients.SecretsManager); err != nil {
		deps.Log.Error("cursor secret", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(deps.APIKeys()).ProxyWithContext)
}
