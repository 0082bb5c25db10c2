package app

import (
	"context"
	"fmt"
	"os"

	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/logging"
)

// FromEnvironment is a Lambda function's Deps, built once per cold start:
// the configuration from the environment, the AWS clients, logs and metric
// lines to standard output. On an error, the Deps still carry the logger,
// so that the function can say why it cannot start.
func FromEnvironment(ctx context.Context) (Deps, error) {
	d := Deps{Log: logging.New(os.Stdout, os.Getenv("LOG_LEVEL")), Metrics: os.Stdout}
	cfg, err := config.FromEnv()
	if err != nil {
		return d, fmt.Errorf("bad configuration: %w", err)
	}
	clients, err := config.NewClients(ctx, cfg)
	if err != nil {
		return d, fmt.Errorf("aws clients: %w", err)
	}
	d.Config, d.Clients = cfg, clients
	return d, nil
}
