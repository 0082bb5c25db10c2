package config

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/flexfactor/credplane/pkg/apikey"
)

// SecretsClient is the Secrets Manager call the configuration makes.
type SecretsClient interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// secretReadTimeout bounds the cold-start read of the cursor secret, well
// inside Lambda's 10 s init phase.
const secretReadTimeout = 3 * time.Second

// ReadCursorSecret sets CursorSecret from the secret CursorSecretARN names;
// without an ARN (local runs, tests) it does nothing. Functions that list
// keys call it once per cold start.
func (c *Config) ReadCursorSecret(ctx context.Context, sm SecretsClient) error {
	if c.CursorSecretARN == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, secretReadTimeout)
	defer cancel()
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.CursorSecretARN)})
	if err != nil {
		return fmt.Errorf("config: read the secret CURSOR_SECRET_ARN names: %w", err)
	}
	v := aws.ToString(out.SecretString)
	if len(v) < apikey.MinCursorKeyLen {
		return fmt.Errorf("config: the secret CURSOR_SECRET_ARN names must be a string of at least %d bytes", apikey.MinCursorKeyLen)
	}
	c.CursorSecret = v
	return nil
}
