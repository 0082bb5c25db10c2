// Command devserver runs the whole API on one machine: it starts DynamoDB
// Local and local-kms, provisions a sandbox stage on them, onboards a demo
// merchant through the onboard function's code path, and serves every route
// until interrupted, then stops everything it started.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/infra/leakdemo"
	"github.com/flexfactor/credplane/infra/localenv"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/dashboard"
	"github.com/flexfactor/credplane/pkg/logging"
)

// demoMID is upstream's documentation merchant, so its curl examples work as pasted.
const demoMID = "mid_123456"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func say(format string, a ...any) { fmt.Printf("==> "+format+"\n", a...) }

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	budget, err := config.ParseBudget(os.Getenv("REQUEST_BUDGET"))
	if err != nil {
		return err
	}
	port := envInt("PORT", 3000)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("port %d is taken (set PORT to use another): %w", port, err)
	}
	defer ln.Close()

	say("starting DynamoDB Local and local-kms")
	stack, err := emulator.Start(ctx, emulator.Options{
		DynamoDBPort: envInt("DYNAMODB_PORT", 0),
		KMSPort:      envInt("KMS_PORT", 0),
	})
	if err != nil {
		return err
	}
	defer func() {
		say("stopping the emulators")
		stack.Close()
	}()
	say("DynamoDB Local at %s, local-kms at %s", stack.DynamoDBEndpoint, stack.KMSEndpoint)

	say("creating the table and the KMS keys (symmetric for envelope encryption, ECC_NIST_P256 for token signing)")
	env, err := localenv.Provision(ctx, stack.DynamoDBEndpoint, stack.KMSEndpoint, apikey.Sandbox)
	if err != nil {
		return err
	}
	keysURL, stopKeys, err := secretScanningKeys()
	if err != nil {
		return err
	}
	defer stopKeys()
	env.Config.SecretScanningKeysURL = keysURL
	if env.Config.TokenRateLimit, err = config.TokenRateLimit(os.Getenv("TOKEN_RATE_LIMIT")); err != nil {
		return err
	}
	// The stage's clients were built for the default budget: build them
	// again for this one, as a function does from REQUEST_BUDGET.
	env.Config.RequestBudget = budget
	if env.Clients, err = config.NewClients(ctx, env.Config); err != nil {
		return err
	}
	log := logging.New(os.Stdout, os.Getenv("LOG_LEVEL"))
	deps := app.Deps{Config: env.Config, Clients: env.Clients, Log: log}

	say("onboarding the demo merchant %s", demoMID)
	res, err := deps.Onboard()(ctx, app.OnboardEvent{MID: demoMID, Name: "Demo merchant"})
	if err != nil || !res.Success {
		return fmt.Errorf("onboard demo merchant: %v %v", err, res.Errors)
	}
	credsPath, err := writeCredentials(res)
	if err != nil {
		return err
	}
	// A second secret key of the demo merchant, to leak in the demo without
	// losing the pair above.
	leakable, err := deps.Keys().Create(ctx, apikey.Caller{MID: res.MID, KeyID: res.SecretKeyID, Scopes: res.Scopes},
		apikey.CreateInput{MID: res.MID, Name: "Leak demo", Type: apikey.Secret, Scopes: []string{"charges:read"}})
	if err != nil {
		return fmt.Errorf("create the leak demo key: %w", err)
	}

	srv := &http.Server{Handler: deps.All(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	fmt.Printf(`
The API is up at %[1]s (table %[2]s, stage sandbox, %[7]d tokens per key per minute, request budget %[11]s).
Demo merchant (also in %[3]s):
  mid:       %[4]s
  AppKey:    %[5]s
  AppSecret: %[6]s

The key dashboard (sign in with the AppKey and AppSecret above):
  %[1]s%[12]s

Get a token:
  curl -s -X POST %[1]s/v1/oauth2/token -H 'content-type: application/json' \
    -d '{"AppKey":"%[5]s","AppSecret":"%[6]s"}'

Then create a key (paste the accessToken):
  curl -s -X POST %[1]s/v1/api-keys -H 'Authorization: bearer TOKEN' -H 'content-type: application/json' \
    -d '{"mid":"%[4]s","name":"My API Key","scopes":["customers:read","charges:read"],"type":"secret"}'

Leak a key (a GitHub secret-scanning report, signed with the development key
whose document is served at %[8]s), then see it revoked:
  go run ./infra/cmd/leakreport -base %[1]s -token %[9]s
  # the key %[10]s then shows "status":"revoked","revoked_reason":"leaked",
  # and GET /v1/audit-events?action=key.leaked lists the report.

Ctrl-C stops the server and the emulators.
`, base, env.Config.TableName, credsPath, res.MID, res.AppKey, res.AppSecret, env.Config.TokenRateLimit, keysURL, leakable.Value, leakable.Key.ID, budget, dashboard.Path)

	select {
	case <-ctx.Done():
		say("shutting down")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// secretScanningKeys returns where GitHub's secret-scanning key document
// is: SECRET_SCANNING_KEYS_URL when set, otherwise a development document
// served on loopback for the key infra/cmd/leakreport signs with.
func secretScanningKeys() (string, func(), error) {
	if u := os.Getenv("SECRET_SCANNING_KEYS_URL"); u != "" {
		return u, func() {}, nil
	}
	k, err := leakdemo.LoadOrCreateKey(leakdemo.DefaultKeyPath)
	if err != nil {
		return "", nil, err
	}
	h, err := leakdemo.Handler(k)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/meta/public_keys/secret_scanning", func() { srv.Close() }, nil
}

// writeCredentials saves the demo pair, readable by the owner only.
func writeCredentials(res app.OnboardResult) (string, error) {
	path := filepath.Join(".local", "dev-credentials.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(map[string]string{"mid": res.MID, "appKey": res.AppKey, "appSecret": res.AppSecret}, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(b, '\n'), 0o600)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
