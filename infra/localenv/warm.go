package localenv

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/dynamostore"
)

// warm makes each kind of call the service makes once, on an item of its
// own, so that a just-started emulator has compiled its paths (DynamoDB
// Local's first calls take up to seconds) before the first request with a
// budget of a few hundred milliseconds reaches it.
func warm(ctx context.Context, c config.Clients, cfg config.Config) error {
	table := aws.String(cfg.TableName)
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	key := map[string]ddbtypes.AttributeValue{dynamostore.AttrPK: s("WARMUP"), dynamostore.AttrSK: s("WARMUP")}
	item := map[string]ddbtypes.AttributeValue{dynamostore.AttrPK: s("WARMUP"), dynamostore.AttrSK: s("WARMUP"), dynamostore.AttrGSI1PK: s("WARMUP"), dynamostore.AttrGSI1SK: s("WARMUP")}
	absent := aws.String("attribute_not_exists(pk)")
	calls := []func() error{
		func() error {
			_, err := c.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
				{Put: &ddbtypes.Put{TableName: table, Item: item, ConditionExpression: absent}},
			}})
			return err
		},
		func() error {
			_, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key, ConsistentRead: aws.Bool(true)})
			return err
		},
		func() error {
			_, err := c.DynamoDB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
				cfg.TableName: {Keys: []map[string]ddbtypes.AttributeValue{key}, ConsistentRead: aws.Bool(true)},
			}})
			return err
		},
		func() error {
			_, err := c.DynamoDB.Query(ctx, &dynamodb.QueryInput{TableName: table, IndexName: aws.String(dynamostore.IndexGSI1),
				KeyConditionExpression: aws.String("gsi1pk = :p"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": s("WARMUP")}})
			return err
		},
		func() error {
			_, err := c.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: key,
				UpdateExpression: aws.String("SET touched = :t"), ConditionExpression: aws.String("attribute_exists(pk)"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": s("yes")}})
			return err
		},
		func() error {
			_, err := c.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: key})
			return err
		},
		func() error {
			dk, err := c.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(cfg.DataKeyID), KeySpec: kmstypes.DataKeySpecAes256,
				EncryptionContext: map[string]string{"warm": "up"}})
			if err == nil {
				_, err = c.KMS.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(cfg.DataKeyID), CiphertextBlob: dk.CiphertextBlob,
					EncryptionContext: map[string]string{"warm": "up"}})
			}
			return err
		},
		func() error {
			digest := sha256.Sum256([]byte("warm up"))
			_, err := c.KMS.Sign(ctx, &kms.SignInput{KeyId: aws.String(cfg.SigningKeyID), Message: digest[:],
				MessageType: kmstypes.MessageTypeDigest, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
			if err == nil {
				_, err = c.KMS.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(cfg.SigningKeyID)})
			}
			return err
		},
	}
	for _, call := range calls {
		if err := call(); err != nil {
			return fmt.Errorf("warm up the emulators: %w", err)
		}
	}
	return nil
}
