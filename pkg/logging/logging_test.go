package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestRecordsCarryRequestIDs(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "info")
	ctx := WithRequestID(context.Background(), "gw-123")
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "lambda-456"})
	log.InfoContext(ctx, "hello", "k", "v")
	log.DebugContext(ctx, "dropped at info")
	log.With("a", 1).WithGroup("g").InfoContext(context.Background(), "no ids")

	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (debug is below info): %s", len(lines), buf.String())
	}
	if lines[0]["request_id"] != "gw-123" || lines[0]["lambda_request_id"] != "lambda-456" || lines[0]["k"] != "v" {
		t.Fatalf("first record %v", lines[0])
	}
	if _, ok := lines[1]["request_id"]; ok || lines[1]["a"] != float64(1) {
		t.Fatalf("second record %v", lines[1])
	}
}
