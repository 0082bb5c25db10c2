package apitest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/config"
)

// TestLatencyComesBeforeTheSend: a named operation reaches the service no
// sooner than its delay after the call (a lower bound, which no load can
// break), and a call canceled while it waits is never sent.
func TestLatencyComesBeforeTheSend(t *testing.T) {
	var mu sync.Mutex
	var arrived []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived = append(arrived, time.Now())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	base, err := config.NewClients(context.Background(), config.Config{Region: "us-east-1", DynamoDBEndpoint: srv.URL, KMSEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	in := &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}}
	sent := func() int { mu.Lock(); defer mu.Unlock(); return len(arrived) }

	c := WithLatency(base, Latency{"DynamoDB GetItem": 50 * time.Millisecond})
	start := time.Now()
	if _, err := c.DynamoDB.GetItem(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if sent() != 1 || arrived[0].Sub(start) < 50*time.Millisecond {
		t.Fatalf("%d requests, the first %v after the call, want one after 50 ms", sent(), arrived[0].Sub(start))
	}

	c = WithLatency(base, Latency{"DynamoDB GetItem": time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := c.DynamoDB.GetItem(ctx, in); !errors.Is(err, context.Canceled) || sent() != 1 {
		t.Fatalf("a call canceled while it waits: %v, %d requests", err, sent())
	}
	if _, err := c.DynamoDB.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: in.TableName, Key: in.Key}); err != nil || sent() != 2 {
		t.Fatalf("an operation without a delay: %v, %d requests", err, sent())
	}
}
