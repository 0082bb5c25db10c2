package config

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/flexfactor/credplane/pkg/awserr"
)

// stub is an endpoint that answers every request with answer and counts
// the requests.
func stub(t *testing.T, answer http.HandlerFunc) (string, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestClientsGiveUpOnAHangingEndpoint: with no deadline on the call, only
// the per-attempt timeout can end an attempt that gets no answer; the call
// makes MaxAttempts attempts and fails as a transient error.
func TestClientsGiveUpOnAHangingEndpoint(t *testing.T) {
	release := make(chan struct{})
	url, n := stub(t, func(http.ResponseWriter, *http.Request) { <-release })
	t.Cleanup(func() { close(release) }) // before the server closes: it waits for its handlers
	c, err := NewClients(context.Background(), Config{Region: "us-east-1", DynamoDBEndpoint: url, RequestBudget: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("t"),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "p"}},
	})
	var max *retry.MaxAttemptsError
	if !errors.As(err, &max) || max.Attempt != MaxAttempts || !awserr.Transient(err) {
		t.Fatalf("err = %v", err)
	}
	if got := n.Load(); got != MaxAttempts {
		t.Fatalf("%d attempts reached the endpoint, want %d", got, MaxAttempts)
	}
}

// TestClientsRetryThrottling: a throttled call is tried MaxAttempts times,
// its backoff capped by the budget (the SDK's own starts at 1 s for a
// throttle), and fails as a transient error.
func TestClientsRetryThrottling(t *testing.T) {
	url, n := stub(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
	})
	c, err := NewClients(context.Background(), Config{Region: "us-east-1", KMSEndpoint: url, RequestBudget: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.KMS.Sign(context.Background(), &kms.SignInput{KeyId: aws.String("k"), Message: []byte("m"), SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
	if !awserr.Transient(err) || n.Load() != MaxAttempts {
		t.Fatalf("%d attempts, err = %v", n.Load(), err)
	}
}
