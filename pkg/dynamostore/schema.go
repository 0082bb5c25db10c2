package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableAdmin is the subset of the DynamoDB API that creates a table; used by
// the local stack and tests (production tables come from template.yaml).
type TableAdmin interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// CreateTable creates the table with the keys, index and TTL the store uses,
// matching the definition in template.yaml.
func CreateTable(ctx context.Context, c TableAdmin, name string) error {
	str := types.ScalarAttributeTypeS
	return createWithTTL(ctx, c, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: append(primaryKey().AttributeDefinitions,
			types.AttributeDefinition{AttributeName: aws.String(AttrGSI1PK), AttributeType: str},
			types.AttributeDefinition{AttributeName: aws.String(AttrGSI1SK), AttributeType: str},
		),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexGSI1),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
}

// CreateAuditTable creates the audit table (pk MID#<mid>, sk the event id,
// TTL on ttl), matching template.yaml's AuditTable.
func CreateAuditTable(ctx context.Context, c TableAdmin, name string) error {
	return createWithTTL(ctx, c, &dynamodb.CreateTableInput{TableName: aws.String(name), AttributeDefinitions: primaryKey().AttributeDefinitions})
}

// primaryKey is the pk/sk key both tables share.
func primaryKey() *dynamodb.CreateTableInput {
	str := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: str},
			{AttributeName: aws.String(AttrSK), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
	}
}

// createWithTTL creates the table in (on demand, keyed by pk/sk) and turns
// on its TTL attribute.
func createWithTTL(ctx context.Context, c TableAdmin, in *dynamodb.CreateTableInput) error {
	in.BillingMode = types.BillingModePayPerRequest
	in.KeySchema = primaryKey().KeySchema
	name := aws.ToString(in.TableName)
	if _, err := c.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	_, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               in.TableName,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(AttrTTL), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enable ttl on %s: %w", name, err)
	}
	return nil
}
