// Package apitest is the one harness of the HTTP tests: a sandbox stage on
// the local emulators, the whole handler stack on it (with a settable clock
// when a test moves time), merchants and their tokens, requests and their
// decoded answers, and a check, run after every test of a package, that no
// secret that crossed the HTTP boundary reached the logs.
//
// A test package uses it from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }
package apitest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/infra/localenv"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/logging"
	"github.com/flexfactor/credplane/pkg/memstore"
	"github.com/flexfactor/credplane/pkg/token/tokentest"
)

// stage is the sandbox stage on the emulators, provisioned on first use:
// a test binary whose tests all run on the in-memory stack needs no
// emulator (and no Java).
var stage struct {
	once  sync.Once
	env   *localenv.Env
	stack *emulator.Stack
	err   error
}

// Env returns the stage on the emulators (its configuration and AWS
// clients), starting or reusing the emulators and provisioning it on first
// use. It panics when the emulators cannot be had: every test of the
// binary would fail the same way.
func Env() *localenv.Env {
	stage.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if stage.stack, stage.err = emulator.FromEnvOrStart(ctx); stage.err == nil {
			stage.env, stage.err = localenv.Provision(ctx, stage.stack.DynamoDBEndpoint, stage.stack.KMSEndpoint, apikey.Sandbox)
		}
	})
	if stage.err != nil {
		panic("apitest: local emulators: " + stage.err.Error())
	}
	return stage.env
}

// Main runs the package's tests, stops the emulators it started, and then
// fails the run when an exchange no test decoded does not conform to the
// API description, or when the captured logs hold any secret the tests
// sent or received, in any form that would give it away. It runs after
// every test, whatever their order or parallelism, and prints how many
// request/response pairs were checked against the API description.
func Main(m *testing.M) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	code := m.Run()
	if stage.stack != nil {
		stage.stack.Close()
	}
	failure := checkPending()
	pairs, invalid := Validated()
	fmt.Fprintf(os.Stderr, "apitest: %d request/response pairs validated against the API description (%d of the requests invalid by it, all refused)\n", pairs, invalid)
	if code != 0 {
		return code
	}
	if failure != "" {
		fmt.Fprintln(os.Stderr, "FAIL: an exchange does not conform to the API description:", failure)
		return 1
	}
	if leak := leakedSecret(); leak != "" {
		fmt.Fprintln(os.Stderr, "FAIL: the logs contain", leak)
		return 1
	}
	return code
}

// Deps returns the real stack on the emulators, its logs captured; now may
// be nil.
func Deps(now func() time.Time) app.Deps {
	e := Env()
	return app.Deps{Config: e.Config, Clients: e.Clients, Log: logging.New(logs, "debug"), Metrics: logs, Now: now}
}

// Memory returns the whole stack in memory: the in-memory store, sealer
// and signer in place of DynamoDB and KMS, its logs captured; now may be
// nil. Route tests that need no real storage or crypto use it: they need no
// emulator.
func Memory(now func() time.Time) app.Deps {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	signer := &tokentest.Signer{Key: key}
	cfg := config.Config{Stage: apikey.Sandbox, Issuer: "https://api-sandbox.memory.test", CursorSecret: "memory-stack-cursor-secret-0123456789"}
	cfg.Audience = cfg.Issuer + "/v1"
	return app.Deps{
		Config:   cfg,
		Log:      logging.New(logs, "debug"),
		Metrics:  logs,
		Now:      now,
		Adapters: &app.Adapters{Store: &memstore.Store{}, Sealer: &memstore.Sealer{}, Signer: signer, Keys: signer.Keys},
	}
}

// App is the shared handler serving every route, on the real clock.
var App = sync.OnceValue(func() http.Handler { return Deps(nil).All() })

// logs captures every log line and metric line the handlers write.
var logs = &syncBuffer{}

// Logs is everything logged so far (its String method).
func Logs() fmt.Stringer { return logs }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// secrets holds every key value, access token and refresh token that
// crossed the HTTP boundary in either direction.
var secrets = struct {
	sync.Mutex
	seen map[string]bool
}{seen: map[string]bool{}}

var secretPattern = regexp.MustCompile(`(?:sk|pk|tk)_(?:test|live)_[0-9A-Za-z]{36}|rt_[0-9A-Za-z_-]{43}|eyJ[0-9A-Za-z_-]+\.[0-9A-Za-z_-]+\.[0-9A-Za-z_-]*`)

// Remember records the secrets found in texts for the log check.
func Remember(texts ...string) {
	secrets.Lock()
	defer secrets.Unlock()
	for _, t := range texts {
		for _, s := range secretPattern.FindAllString(t, -1) {
			secrets.seen[s] = true
		}
	}
}

// Seen counts the remembered secrets by kind ("sk_", "pk_", "rt_", "eyJ"...).
func Seen() map[string]int {
	secrets.Lock()
	defer secrets.Unlock()
	kinds := map[string]int{}
	for s := range secrets.seen {
		kinds[s[:3]]++
	}
	return kinds
}

// leakedSecret names the first remembered secret found in the logs ("" for
// none), without printing it.
func leakedSecret() string {
	secrets.Lock()
	all := make([]string, 0, len(secrets.seen))
	for s := range secrets.seen {
		all = append(all, s)
	}
	secrets.Unlock()
	sort.Strings(all)
	logged := logs.String()
	for i, s := range all {
		if givenAway(logged, s) {
			return fmt.Sprintf("a %s… secret (#%d of %d seen) or a form of it", s[:3], i+1, len(all))
		}
	}
	return ""
}

// NotLogged fails when the captured logs hold any of the secrets (named for
// the failure message, never printed), or a form that would give one away.
func NotLogged(t testing.TB, named map[string]string) {
	t.Helper()
	logged := logs.String()
	for name, s := range named {
		if s == "" {
			t.Fatalf("%s is empty: the check would prove nothing", name)
		}
		if givenAway(logged, s) {
			t.Fatalf("the logs contain the %s (or a form of it)", name)
		}
	}
}

// givenAway reports whether logged holds s, its second half, its SHA-256
// in hex or base64, its base64, or, for a JWT, its signature.
func givenAway(logged, s string) bool {
	d := sha256.Sum256([]byte(s))
	forms := []string{s, s[len(s)/2:], hex.EncodeToString(d[:]), base64.StdEncoding.EncodeToString(d[:]), base64.StdEncoding.EncodeToString([]byte(s))}
	if parts := strings.Split(s, "."); len(parts) == 3 && parts[2] != "" {
		forms = append(forms, parts[2])
	}
	for _, f := range forms {
		if strings.Contains(logged, f) {
			return true
		}
	}
	return false
}
