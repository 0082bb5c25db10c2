package awserr_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awserr"
)

// operation wraps err as the SDK returns the failure of an operation, after
// its retries.
func operation(err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem", Err: &retry.MaxAttemptsError{Attempt: 3, Err: err}}
}

// response is an error response of the given status carrying api, as the
// SDK returns it.
func response(status int, api error) error {
	return operation(&awshttp.ResponseError{RequestID: "req", ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      api,
	}})
}

// canceledFor is a canceled transaction with one reason per item.
func canceledFor(codes ...string) error {
	tce := &ddbtypes.TransactionCanceledException{}
	for _, c := range codes {
		tce.CancellationReasons = append(tce.CancellationReasons, ddbtypes.CancellationReason{Code: aws.String(c)})
	}
	return tce
}

func generic(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		// Throttling, by the SDK's throttle codes.
		{"throttling", response(400, generic("ThrottlingException")), true},
		{"dynamodb throughput", response(400, &ddbtypes.ProvisionedThroughputExceededException{}), true},
		{"dynamodb request limit", response(400, &ddbtypes.RequestLimitExceeded{}), true},
		{"kms limit", response(400, &kmstypes.LimitExceededException{}), true},
		{"throttling code alone", generic("ThrottlingException"), true},
		// Outages, by the SDK's 5xx statuses.
		{"dynamodb internal", response(500, &ddbtypes.InternalServerError{}), true},
		{"kms internal", response(500, &kmstypes.KMSInternalException{}), true},
		{"kms dependency timeout", response(503, &kmstypes.DependencyTimeoutException{}), true},
		{"service unavailable", response(503, generic("ServiceUnavailable")), true},
		{"bad gateway", response(502, generic("")), true},
		{"unmodeled 429", response(429, generic("")), true},
		{"transaction conflict", response(400, &ddbtypes.TransactionConflictException{}), true},
		// Requests that never reached the service.
		{"connection refused", operation(&smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errors.New("connection refused"))}}), true},
		{"no such host", operation(&smithyhttp.RequestSendError{Err: &net.DNSError{Err: "no such host", Name: "dynamodb.invalid", IsNotFound: true}}), true},
		{"reset while reading", operation(&smithy.DeserializationError{Err: errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")}), true},
		// Timeouts.
		{"response read timeout", operation(&smithy.DeserializationError{Err: &awshttp.ResponseTimeoutError{TimeoutDur: time.Second}}), true},
		{"socket deadline", operation(&smithy.DeserializationError{Err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}}), true},
		{"context deadline", operation(&smithy.CanceledError{Err: context.DeadlineExceeded}), true},
		// Refusals and defects: retrying cannot help.
		{"access denied", response(400, generic("AccessDeniedException")), false},
		{"validation", response(400, generic("ValidationException")), false},
		{"conditional check", response(400, &ddbtypes.ConditionalCheckFailedException{}), false},
		{"transaction canceled", response(400, &ddbtypes.TransactionCanceledException{}), false},
		{"transaction canceled by a condition", response(400, canceledFor("None", "ConditionalCheckFailed", "TransactionConflict")), false},
		// A transaction canceled only because others were at work on its
		// items wrote nothing, and will not meet them again.
		{"transaction canceled by conflicts", response(400, canceledFor("None", "TransactionConflict", "None")), true},
		{"no such table", response(400, &ddbtypes.ResourceNotFoundException{}), false},
		{"kms bad ciphertext", response(400, &kmstypes.InvalidCiphertextException{}), false},
		{"kms disabled key", response(400, &kmstypes.DisabledException{}), false},
		{"caller went away", operation(&smithy.CanceledError{Err: context.Canceled}), false},
		{"not an AWS error", errors.New("boom"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := awserr.Transient(tt.err); got != tt.want {
				t.Fatalf("Transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	throttled := response(400, &ddbtypes.ProvisionedThroughputExceededException{Message: aws.String("slow down")})
	got := awserr.Classify(throttled)
	if !errors.Is(got, apikey.ErrUnavailable) || got.Error() != throttled.Error() {
		t.Fatalf("transient: %v (unavailable: %v)", got, errors.Is(got, apikey.ErrUnavailable))
	}
	var pte *ddbtypes.ProvisionedThroughputExceededException
	if !errors.As(got, &pte) || pte.ErrorMessage() != "slow down" {
		t.Fatal("the marked error no longer reaches its cause")
	}

	denied := response(400, generic("AccessDeniedException"))
	if got := awserr.Classify(denied); got != denied || errors.Is(got, apikey.ErrUnavailable) {
		t.Fatalf("a refusal was changed: %v", got)
	}
	if awserr.Classify(nil) != nil {
		t.Fatal("nil is not an error")
	}
}
