// Package localenv provisions a fresh stage on the local emulators (a table
// and the two KMS keys, as template.yaml does in AWS) and returns the
// configuration and clients that point at it. The dev server and the tests
// that need real storage and crypto use it.
package localenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/dynamostore"
)

// Env is a provisioned local stage.
type Env struct {
	Config  config.Config
	Clients config.Clients
}

// Provision creates a uniquely named table and fresh KMS keys on the
// emulators at the given endpoints.
func Provision(ctx context.Context, dynamoEndpoint, kmsEndpoint string, stage apikey.Stage) (*Env, error) {
	name := "credplane-" + string(stage) + "-" + randomSuffix()
	cfg := config.Config{
		Stage:            stage,
		TableName:        name,
		AuditTableName:   name + "-audit",
		Region:           emulator.Region,
		DynamoDBEndpoint: dynamoEndpoint,
		KMSEndpoint:      kmsEndpoint,
		Issuer:           "https://api-" + string(stage) + ".local.test",
	}
	cfg.Audience = cfg.Issuer + "/v1"
	// Creating a table is not retried safely (a retry of one that was
	// created meets it), and a just-started emulator may take seconds to
	// answer: the set-up calls get attempts far longer than a request's.
	admin := cfg
	admin.RequestBudget = provisionBudget
	ac, err := config.NewClients(ctx, admin)
	if err != nil {
		return nil, err
	}
	if err := dynamostore.CreateTable(ctx, ac.DynamoDB, cfg.TableName); err != nil {
		return nil, err
	}
	if err := dynamostore.CreateAuditTable(ctx, ac.DynamoDB, cfg.AuditTableName); err != nil {
		return nil, err
	}
	if cfg.DataKeyID, err = createKey(ctx, ac.KMS, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt); err != nil {
		return nil, err
	}
	if cfg.SigningKeyID, err = createKey(ctx, ac.KMS, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify); err != nil {
		return nil, err
	}
	if err := warm(ctx, ac, cfg); err != nil {
		return nil, err
	}
	clients, err := config.NewClients(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Env{Config: cfg, Clients: clients}, nil
}

// provisionBudget bounds the calls that set a stage up.
const provisionBudget = time.Minute

// CreateSigningKey adds another ECC_NIST_P256 key (for rotation tests).
func (e *Env) CreateSigningKey(ctx context.Context) (string, error) {
	return createKey(ctx, e.Clients.KMS, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
}

func createKey(ctx context.Context, c *kms.Client, spec types.KeySpec, usage types.KeyUsageType) (string, error) {
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage, Description: aws.String("credplane local " + strings.ToLower(string(spec)))})
	if err != nil {
		return "", fmt.Errorf("create kms key %s: %w", spec, err)
	}
	return aws.ToString(out.KeyMetadata.KeyId), nil
}

func randomSuffix() string {
	return strings.ToLower(rand.Text()[:10])
}
