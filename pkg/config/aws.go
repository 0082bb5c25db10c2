package config

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// NewClients builds the clients. With endpoint overrides (local emulators)
// static dummy credentials are used, which the emulators accept.
func NewClients(ctx context.Context, c Config) (Clients, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(c.Region)}
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
