package apitest

import (
	"context"
	"time"

	"github.com/flexfactor/credplane/pkg/config"
)

// Latency is a fixed delay added to AWS operations, by service and
// operation ("DynamoDB GetItem", "KMS Sign"): what the network and the
// service take on AWS, which the emulators on loopback do not. Operations
// it does not name get none.
//
// It is an SDK middleware, in the process that makes the calls: the
// stand-in until the fault-injection proxy can add latency in front of the
// emulators; either way the handler and the bare calls it is compared with
// wait alike.
type Latency map[string]time.Duration

// AWSLatency is the benchmarks' AWS-like regime: in-region medians, as a
// Lambda function sees them on a warm connection, assumed rather than
// measured. DynamoDB answers a strongly consistent read of an item or two
// in single-digit milliseconds (4 ms; a Query of up to 51 items, 5 ms) and
// a single-item write in about 6; TransactWriteItems commits in two phases
// (prepare, then commit, on every item's partition), about twice a write:
// 10 ms. KMS works behind HSMs: a symmetric data key or decryption takes
// about 8 ms, an ECDSA P-256 signature 12 ms.
var AWSLatency = Latency{
	"DynamoDB GetItem":            4 * time.Millisecond,
	"DynamoDB BatchGetItem":       4 * time.Millisecond,
	"DynamoDB Query":              5 * time.Millisecond,
	"DynamoDB PutItem":            6 * time.Millisecond,
	"DynamoDB UpdateItem":         6 * time.Millisecond,
	"DynamoDB DeleteItem":         6 * time.Millisecond,
	"DynamoDB TransactWriteItems": 10 * time.Millisecond,
	"KMS GenerateDataKey":         8 * time.Millisecond,
	"KMS Decrypt":                 8 * time.Millisecond,
	"KMS GetPublicKey":            8 * time.Millisecond,
	"KMS Sign":                    12 * time.Millisecond,
}

// WithLatency returns c's DynamoDB and KMS clients with l added before
// every operation; a canceled context ends the wait.
func WithLatency(c config.Clients, l Latency) config.Clients {
	return Intercept(c, func(ctx context.Context, op string, _ any) error {
		d := l[op]
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}
