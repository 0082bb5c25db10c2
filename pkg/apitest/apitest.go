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

	"github.com/flexfactor/credplane/infra/localenv"
	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/logging"
)

// env is the stage provisioned for the running test binary.
var env *localenv.Env

// Env returns the provisioned stage: its configuration and AWS clients.
func Env() *localenv.Env { return env }

// Main provisions a sandbox stage on the emulators, runs the package's
// tests, and then fails the run when the captured logs hold any secret the
// tests sent or received, in any form that would give it away. It runs
// after every test, whatever their order or parallelism.
func Main(m *testing.M) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	code := localenv.Main(m, func(e *localenv.Env) { env = e })
	if code != 0 {
		return code
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
	return app.Deps{Config: env.Config, Clients: env.Clients, Log: logging.New(logs, "debug"), Now: now}
}

// App is the shared handler serving every route, on the real clock.
var App = sync.OnceValue(func() http.Handler { return Deps(nil).All() })

// logs captures every log line the handlers write.
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
