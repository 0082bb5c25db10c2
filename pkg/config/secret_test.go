package config

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// fakeSecrets answers GetSecretValue with a fixed value or error and
// records what it was asked.
type fakeSecrets struct {
	value    *string
	err      error
	asked    []string
	deadline bool
}

func (f *fakeSecrets) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = append(f.asked, aws.ToString(in.SecretId))
	_, f.deadline = ctx.Deadline()
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.value}, nil
}

const cursorARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:credplane/sandbox/cursor-secret-AbCdEf"

func TestReadCursorSecretFromSecretsManager(t *testing.T) {
	c, err := fromLookup(lookup(map[string]string{"TABLE_NAME": "t", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "k", "CURSOR_SECRET_ARN": cursorARN}))
	if err != nil {
		t.Fatal(err)
	}
	if c.CursorSecret != "" {
		t.Fatal("CursorSecret set before the secret was read")
	}
	secret := strings.Repeat("s", 64)
	sm := &fakeSecrets{value: aws.String(secret)}
	if err := c.ReadCursorSecret(context.Background(), sm); err != nil {
		t.Fatal(err)
	}
	if len(sm.asked) != 1 || sm.asked[0] != cursorARN || !sm.deadline {
		t.Fatalf("asked %q (with a deadline: %v), want %s once, bounded", sm.asked, sm.deadline, cursorARN)
	}
	if string(c.CursorKey()) != secret {
		t.Fatal("the cursor key is not the secret read")
	}
}

func TestReadCursorSecretFailures(t *testing.T) {
	short := strings.Repeat("x", 31)
	for name, sm := range map[string]*fakeSecrets{
		"unreachable": {err: errors.New("dial tcp: i/o timeout")},
		"too short":   {value: aws.String(short)},
		"binary":      {value: nil},
	} {
		t.Run(name, func(t *testing.T) {
			c := Config{CursorSecretARN: cursorARN}
			err := c.ReadCursorSecret(context.Background(), sm)
			if err == nil || !strings.Contains(err.Error(), "CURSOR_SECRET_ARN") || strings.Contains(err.Error(), short) {
				t.Fatalf("err = %v", err)
			}
			if c.CursorSecret != "" {
				t.Fatal("CursorSecret set from a failed read")
			}
		})
	}
}

// Local runs and tests name no secret: nothing is read, and CURSOR_SECRET
// (or the derived key) serves.
func TestReadCursorSecretWithoutAnARN(t *testing.T) {
	sm := &fakeSecrets{err: errors.New("must not be called")}
	c := Config{CursorSecret: strings.Repeat("p", 32)}
	if err := c.ReadCursorSecret(context.Background(), sm); err != nil || len(sm.asked) != 0 || c.CursorSecret != strings.Repeat("p", 32) {
		t.Fatalf("err = %v, asked %q", err, sm.asked)
	}
	both := map[string]string{"TABLE_NAME": "t", "AUDIT_TABLE_NAME": "a", "KMS_SIGNING_KEY_ID": "k", "CURSOR_SECRET": strings.Repeat("p", 32), "CURSOR_SECRET_ARN": cursorARN}
	if _, err := fromLookup(lookup(both)); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both set: err = %v", err)
	}
}
