package apitest

import (
	"context"
	"slices"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go/middleware"
	"github.com/flexfactor/credplane/pkg/config"
)

// Intercept returns c's DynamoDB and KMS clients with f run before each
// operation is sent. f gets the operation's name ("DynamoDB GetItem", "KMS
// Sign") and input; an error from f fails the operation with it, before
// the SDK's retries, as if the service had answered it. Tests count calls,
// fail them or slow them down with it.
func Intercept(c config.Clients, f func(ctx context.Context, op string, in any) error) config.Clients {
	add := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("apitest.Intercept", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if err := f(ctx, awsmiddleware.GetServiceID(ctx)+" "+awsmiddleware.GetOperationName(ctx), in.Parameters); err != nil {
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	}
	c.DynamoDB = dynamodb.New(c.DynamoDB.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(slices.Clone(o.APIOptions), add)
	})
	c.KMS = kms.New(c.KMS.Options(), func(o *kms.Options) {
		o.APIOptions = append(slices.Clone(o.APIOptions), add)
	})
	return c
}
