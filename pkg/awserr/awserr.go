// Package awserr sorts the errors of AWS SDK calls for the adapters
// (dynamostore, awskms): a failure that a later retry may not meet is marked
// apikey.ErrUnavailable, by the SDK's own retry classification, so that no
// layer above the adapters needs to know AWS error codes.
package awserr

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/flexfactor/credplane/pkg/apikey"
)

// retryables are the checks the SDK retries by (canceled requests never;
// connection errors, 5xx and unmodeled 429 responses, its retryable and
// throttle codes always), plus DynamoDB's TransactionConflictException: a
// write that met a transaction in progress on its item, which the SDK does
// not retry but a later request will not meet.
var retryables = append(append(retry.IsErrorRetryables{}, retry.DefaultRetryables...),
	retry.RetryableErrorCode{Codes: map[string]struct{}{"TransactionConflictException": {}}})

// timeouts are the SDK's timeout checks (an error that says Timeout()).
var timeouts = retry.IsErrorTimeouts(retry.DefaultTimeouts)

// Transient reports whether err is a throttle, a timeout, an outage or an
// unreachable endpoint rather than a refusal or a defect.
func Transient(err error) bool {
	var send *smithyhttp.RequestSendError
	var canceled *types.TransactionCanceledException
	switch {
	case err == nil:
		return false
	case errors.As(err, &canceled):
		return onlyConflicts(canceled)
	case errors.Is(err, context.DeadlineExceeded):
		// The SDK does not retry past its context, but the dependency was
		// too slow for the budget, not wrong.
		return true
	case errors.As(err, &send):
		// The request never reached the service (and the SDK has already
		// retried it), whatever the cause: the endpoint is down to us.
		return true
	}
	return retryables.IsErrorRetryable(err).Bool() || timeouts.IsErrorTimeout(err).Bool()
}

// onlyConflicts reports whether a transaction was canceled only because
// another transaction was at work on some of its items (every reason
// TransactionConflict or None): nothing was written, and the same write a
// moment later will not meet it. Concurrent token requests of one key meet
// on its record and on its count of tokens.
func onlyConflicts(tce *types.TransactionCanceledException) bool {
	conflict := false
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			conflict = true
		case "None", "":
		default:
			return false
		}
	}
	return conflict
}

// Call runs one SDK operation, such as client.GetItem, and classifies its
// error: the one way the adapters call AWS.
func Call[In, Out, Opt any](ctx context.Context, op func(context.Context, In, ...Opt) (Out, error), in In) (Out, error) {
	out, err := op(ctx, in)
	return out, Classify(err)
}

// Classify returns err unchanged, or, when it is Transient, an error with
// err's message that is both apikey.ErrUnavailable and err to errors.Is
// and errors.As.
func Classify(err error) error {
	if !Transient(err) {
		return err
	}
	return unavailable{err}
}

// unavailable marks a transient error as apikey.ErrUnavailable.
type unavailable struct{ err error }

func (u unavailable) Error() string   { return u.err.Error() }
func (u unavailable) Unwrap() []error { return []error{apikey.ErrUnavailable, u.err} }
