package metrics

import (
	"context"
	"errors"

	"github.com/aws/smithy-go"
)

// ServiceOf names the AWS service whose SDK operation err comes from
// ("DynamoDB", "KMS", "Secrets Manager"), or "" when it comes from none.
func ServiceOf(err error) string {
	var op *smithy.OperationError
	if errors.As(err, &op) {
		return op.ServiceID
	}
	return ""
}

// DependencyFailed counts a failure that err shows to come from a call to
// an AWS service; it does nothing for an error of the code's own.
func (s *Scope) DependencyFailed(err error) {
	if svc := ServiceOf(err); svc != "" {
		s.Count(DependencyFailures, DimService, svc)
	}
}

// DependencyFailed is Scope.DependencyFailed in the scope of ctx's request.
func DependencyFailed(ctx context.Context, err error) {
	FromContext(ctx).DependencyFailed(err)
}
