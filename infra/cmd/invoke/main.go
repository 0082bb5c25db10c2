// Command invoke runs one Lambda function locally on one sample event:
//
//	go run ./infra/cmd/invoke -fn TokenFunction -event events/token.json
//
// (`make invoke FN=... EVENT=...`). It uses DynamoDB Local and local-kms at
// DYNAMODB_ENDPOINT and KMS_ENDPOINT, or starts them; provisions a fresh
// sandbox stage on them; onboards a demo merchant to fill the event's
// placeholders (events/README.md); then runs the function
//
//   - with `sam build` + `sam local invoke` when the SAM CLI and a Docker
//     engine are both there (the container joins the host network to reach
//     the emulators, which works with Docker on Linux);
//   - otherwise by building its bootstrap for this machine and running it
//     under the Lambda Runtime Interface Emulator.
//
// INVOKE_WITH=rie or INVOKE_WITH=sam forces either way. The response, the
// REPORT line and (with the emulator) the measured init time go to stdout,
// the function's logs to stderr. Everything it started is stopped before it
// exits.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/infra/lambdalocal"
	"github.com/flexfactor/credplane/infra/localenv"
	"github.com/flexfactor/credplane/infra/repo"
	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/logging"
)

// demoMID is upstream's documentation merchant, as in `make dev`.
const demoMID = "mid_123456"

func main() {
	fn := flag.String("fn", "", "logical id of the function in template.yaml")
	event := flag.String("event", "", "event file, such as events/token.json")
	flag.Parse()
	if err := run(*fn, *event); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func say(format string, a ...any) { fmt.Fprintf(os.Stderr, "==> "+format+"\n", a...) }

func run(fn, eventPath string) error {
	tpl, err := samtemplate.LoadRepo()
	if err != nil {
		return err
	}
	if fn == "" || eventPath == "" || !slices.Contains(tpl.Functions(), fn) {
		return fmt.Errorf("usage: make invoke FN=%s EVENT=events/<file>.json", strings.Join(tpl.Functions(), "|"))
	}
	raw, err := os.ReadFile(eventPath)
	if err != nil {
		return err
	}
	root, err := repo.Root()
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if os.Getenv("DYNAMODB_ENDPOINT") == "" || os.Getenv("KMS_ENDPOINT") == "" {
		say("starting DynamoDB Local and local-kms")
	}
	stack, err := emulator.FromEnvOrStart(ctx)
	if err != nil {
		return err
	}
	defer stack.Close()
	env, err := localenv.Provision(ctx, stack.DynamoDBEndpoint, stack.KMSEndpoint, apikey.Sandbox)
	if err != nil {
		return err
	}
	env.Config.LogLevel = os.Getenv("LOG_LEVEL")
	say("stage sandbox on the emulators: table %s", env.Config.TableName)

	deps := app.Deps{Config: env.Config, Clients: env.Clients, Log: logging.New(os.Stderr, "warn")}
	var filled []byte
	if names := lambdalocal.Placeholders(raw); len(names) > 0 {
		say("onboarding demo merchant %s to fill %v", demoMID, names)
		fx, err := lambdalocal.NewFixtures(ctx, deps, demoMID)
		if err != nil {
			return err
		}
		if filled, _, err = fx.Fill(ctx, raw); err != nil {
			return fmt.Errorf("%s: %w", eventPath, err)
		}
	} else {
		filled = raw
	}
	fnEnv, err := lambdalocal.Environment(tpl, fn, env.Config)
	if err != nil {
		return err
	}

	if useSAM() {
		return invokeWithSAM(ctx, root, fn, filled, fnEnv)
	}
	return invokeWithRIE(ctx, root, tpl, fn, filled, fnEnv)
}

// useSAM reports whether to run `sam local invoke`: INVOKE_WITH decides,
// else the SAM CLI and a running Docker engine must both be there.
func useSAM() bool {
	switch os.Getenv("INVOKE_WITH") {
	case "sam":
		return true
	case "rie":
		return false
	}
	if _, err := exec.LookPath("sam"); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "docker", "info").Run() == nil
}

func invokeWithRIE(ctx context.Context, root string, tpl *samtemplate.Template, fn string, event []byte, fnEnv map[string]string) error {
	dir := filepath.Join(root, ".local", "invoke")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	say("building %s for this machine (%s)", fn, lambdalocal.Packages[fn])
	bins, err := lambdalocal.Build(ctx, root, dir, fn)
	if err != nil {
		return err
	}
	env := lambdalocal.RuntimeEnvironment(tpl, fn)
	for k, v := range fnEnv {
		env[k] = v
	}
	say("running %s under the Lambda Runtime Interface Emulator", fn)
	rie, err := lambdalocal.StartRIE(ctx, bins[fn], env, os.Stderr)
	if err != nil {
		return err
	}
	defer rie.Close()
	res, err := rie.Invoke(ctx, event)
	if err != nil {
		return err
	}
	printResponse(res.Payload)
	fmt.Println(res.Report)
	// The emulator's Init Duration times only its hand-off to the runtime
	// (see lambdalocal.MeasureInit): measure the init phase itself.
	initTime, err := lambdalocal.MeasureInit(ctx, bins[fn], env, 5)
	if err != nil {
		return fmt.Errorf("measure init: %w", err)
	}
	fmt.Printf("INIT %s: %.2f ms from process start to its first request for an event (median of 5)\n", fn, float64(initTime)/float64(time.Millisecond))
	return nil
}

// printResponse prints the function's answer indented and, for an API
// Gateway response, its body decoded.
func printResponse(payload []byte) {
	var out bytes.Buffer
	if json.Indent(&out, payload, "", "  ") != nil {
		out.Reset()
		out.Write(payload)
	}
	fmt.Println(out.String())
	var gw struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if json.Unmarshal(payload, &gw) == nil && gw.StatusCode != 0 {
		out.Reset()
		if json.Indent(&out, []byte(gw.Body), "", "  ") != nil {
			out.Reset()
			out.WriteString(gw.Body)
		}
		fmt.Printf("--- status %d, body:\n%s\n", gw.StatusCode, out.String())
	}
}

func invokeWithSAM(ctx context.Context, root, fn string, event []byte, fnEnv map[string]string) error {
	dir := filepath.Join(root, ".local", "invoke")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	eventFile := filepath.Join(dir, fn+"-event.json")
	if err := os.WriteFile(eventFile, event, 0o600); err != nil {
		return err
	}
	envJSON, err := json.Marshal(map[string]map[string]string{fn: fnEnv})
	if err != nil {
		return err
	}
	envFile := filepath.Join(dir, fn+"-env.json")
	if err := os.WriteFile(envFile, envJSON, 0o600); err != nil {
		return err
	}
	say("sam build %s, then sam local invoke (Docker, host network)", fn)
	for _, args := range [][]string{
		{"build", fn},
		{"local", "invoke", fn, "--event", eventFile, "--env-vars", envFile, "--docker-network", "host"},
	} {
		cmd := exec.CommandContext(ctx, "sam", args...)
		cmd.Dir = root
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return fmt.Errorf("sam %s: %w", args[0], err)
			}
			return err
		}
	}
	return nil
}
