package localenv

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/pkg/apikey"
)

// Main is a TestMain body for packages whose tests need the emulators: it
// reuses the emulators named by DYNAMODB_ENDPOINT and KMS_ENDPOINT (as `make
// test` provides) or starts its own, provisions a fresh sandbox stage, hands
// it to set, runs the tests and stops what it started.
func Main(m *testing.M, set func(*Env)) int {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	stack, err := emulator.FromEnvOrStart(ctx)
	if err != nil {
		cancel()
		fmt.Fprintln(os.Stderr, "local emulators:", err)
		return 1
	}
	defer stack.Close()
	env, err := Provision(ctx, stack.DynamoDBEndpoint, stack.KMSEndpoint, apikey.Sandbox)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "provision local stage:", err)
		return 1
	}
	set(env)
	return m.Run()
}
