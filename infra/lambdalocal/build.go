// Package lambdalocal runs the Lambda functions on this machine the way
// Lambda runs them: each function's real bootstrap binary under the Lambda
// Runtime Interface Emulator (RIE), with the environment template.yaml gives
// it, pointed at DynamoDB Local and local-kms, and fed the sample API Gateway
// events under events/. `make invoke` (infra/cmd/invoke) and the invoke test
// use it; no Docker engine or SAM CLI is needed.
package lambdalocal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/flexfactor/credplane/pkg/app"
)

// Packages maps each function's logical id to the Go package its bootstrap
// is built from (the Makefile's build-<LogicalId> targets build the same).
var Packages = map[string]string{
	app.TokenFunction:          "./functions/token",
	app.APIKeysFunction:        "./functions/apikeys",
	app.OnboardFunction:        "./functions/onboard",
	app.SecretScanningFunction: "./functions/secretscanning",
}

// buildFlags are the go build flags of a Lambda bootstrap (as in the Makefile).
var buildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}

// Build compiles the bootstraps of the given functions for linux on this
// machine's architecture (the RIE runs them natively) in one go build, and
// returns each one's path: dir/<LogicalId>/bootstrap. repo is the
// repository root.
func Build(ctx context.Context, repo, dir string, fns ...string) (map[string]string, error) {
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("the Runtime Interface Emulator runs on linux only, not %s: use sam local invoke", runtime.GOOS)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", tmp+string(filepath.Separator))
	for _, fn := range fns {
		pkg, ok := Packages[fn]
		if !ok {
			return nil, fmt.Errorf("unknown function %q (known: %s)", fn, strings.Join(FunctionIDs(), ", "))
		}
		args = append(args, pkg)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	paths := map[string]string{}
	for _, fn := range fns {
		dst := filepath.Join(dir, fn, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		// go build -o dir/ names each binary after its package's folder.
		if err := os.Rename(filepath.Join(tmp, filepath.Base(Packages[fn])), dst); err != nil {
			return nil, err
		}
		paths[fn] = dst
	}
	return paths, nil
}

// FunctionIDs lists the known functions' logical ids, sorted.
func FunctionIDs() []string {
	ids := make([]string, 0, len(Packages))
	for id := range Packages {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
