// Command onboard is the Lambda function that is invoked directly by operators (no HTTP route) to issue a new merchant's first key pair.
// It only wires configuration, clients and handler, then starts.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flexfactor/credplane/pkg/app"
)

func main() {
	deps, err := app.FromEnvironment(context.Background())
	if err != nil {
		deps.Log.Error("cold start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(deps.Onboard())
}
