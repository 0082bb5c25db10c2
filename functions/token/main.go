// Command token is the Lambda function that serves /v1/oauth2/token, /revoke and /jwks.
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
	lambda.Start(httpadapter.NewV2(deps.Token()).ProxyWithContext)
}
