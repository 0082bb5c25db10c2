package config

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Clients are the AWS SDK clients, built once per cold start.
type Clients struct {
	DynamoDB *dynamodb.Client
	KMS      *kms.Client
	// SecretsManager is set only for a configuration with CursorSecretARN.
	SecretsManager *secretsmanager.Client
}

// MaxAttempts is how often an SDK call is tried, the first attempt included.
const MaxAttempts = 3

// CallLimits are the per-attempt timeout (connecting, sending and reading
// the whole answer) and the longest backoff between attempts of an SDK
// call, derived from the request budget so that a call and all its
// retries fit inside it: 3 attempts of a fifth and 2 backoffs of at most a
// tenth take at most 0.8 of the budget. A dependency that hangs or resets
// is therefore tried again within the request, and given up on before the
// request's deadline; the deadline still ends a chain of slow calls.
func CallLimits(budget time.Duration) (attempt, maxBackoff time.Duration) {
	return budget / 5, budget / 10
}

// NewClients builds the clients. With endpoint overrides (local emulators)
// static dummy credentials are used, which the emulators accept. Every call
// is bounded by CallLimits of the configuration's request budget.
func NewClients(ctx context.Context, c Config) (Clients, error) {
	attempt, maxBackoff := CallLimits(c.Budget())
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(c.Region),
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(attempt)),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = MaxAttempts
				o.MaxBackoff = maxBackoff
			})
		}),
	}
	if c.DynamoDBEndpoint != "" || c.KMSEndpoint != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Clients{}, fmt.Errorf("load aws config: %w", err)
	}
	clients := Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			if c.DynamoDBEndpoint != "" {
				o.BaseEndpoint = aws.String(c.DynamoDBEndpoint)
			}
		}),
		KMS: kms.NewFromConfig(cfg, func(o *kms.Options) {
			if c.KMSEndpoint != "" {
				o.BaseEndpoint = aws.String(c.KMSEndpoint)
			}
		}),
	}
	if c.CursorSecretARN != "" {
		clients.SecretsManager = secretsmanager.NewFromConfig(cfg)
	}
	return clients, nil
}
