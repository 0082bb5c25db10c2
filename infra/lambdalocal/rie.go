package lambdalocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/infra/proc"
	"github.com/flexfactor/credplane/infra/repo"
)

// rieBinary is the Runtime Interface Emulator's executable name.
const rieBinary = "aws-lambda-rie"

// FindRIE returns the emulator installed by `make tools` (in the bin folder
// of repo.ToolsDir), else the one on PATH.
func FindRIE() (string, error) {
	if dir, err := repo.ToolsDir(); err == nil {
		p := filepath.Join(dir, "bin", rieBinary)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(rieBinary)
	if err != nil {
		return "", fmt.Errorf("%s not found (run make tools)", rieBinary)
	}
	return p, nil
}

// RIE is one function's bootstrap running under the Runtime Interface
// Emulator. It serves one invocation at a time, like a Lambda instance; the
// first one includes the cold start. Close it when done.
type RIE struct {
	url     string
	proc    *proc.Proc
	out     *output
	reports chan string
}

// Result is one invocation's outcome.
type Result struct {
	// Payload is what the function returned (for an API Gateway function,
	// the JSON of an APIGatewayV2HTTPResponse).
	Payload []byte
	// Report is the emulator's REPORT line for the invocation; it carries
	// "Init Duration" on the first one.
	Report string
}

// StartRIE runs bootstrap under the emulator with the environment env (see
// processEnv). Everything the function and the emulator print is kept (see
// Output) and copied to log unless it is nil.
func StartRIE(ctx context.Context, bootstrap string, env map[string]string, log io.Writer) (*RIE, error) {
	rie, err := FindRIE()
	if err != nil {
		return nil, err
	}
	apiPort, err := emulator.FreePort()
	if err != nil {
		return nil, err
	}
	// Not the RIE's default Runtime API port, so that several functions
	// (and anyone else's RIE) can run at once.
	runtimePort, err := emulator.FreePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort))
	cmd := exec.Command(rie,
		"--log-level", "warn",
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(runtimePort)),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = processEnv(cmd.Dir, env)
	r := &RIE{
		url:     "http://" + addr + "/2015-03-31/functions/function/invocations",
		out:     &output{log: log},
		reports: make(chan string, 16),
	}
	if r.proc, err = proc.Start(rieBinary, cmd, &lineWriter{line: r.line}); err != nil {
		return nil, err
	}
	if err := r.proc.WaitHTTP(ctx, addr, time.Now().Add(10*time.Second)); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// line takes one line of the emulator's output.
func (r *RIE) line(s string) {
	r.out.add(s)
	if strings.HasPrefix(s, "REPORT RequestId:") {
		select {
		case r.reports <- s:
		default:
		}
	}
}

// Invoke sends one event and returns the function's answer with the
// emulator's REPORT line.
func (r *RIE) Invoke(ctx context.Context, event []byte) (Result, error) {
	// Drop a report left over from an earlier, failed invocation.
	select {
	case <-r.reports:
	default:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(event))
	if err != nil {
		return Result{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(resp.Body)
	if err != nil {
		return Result{}, fmt.Errorf("invoke: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{Payload: payload}, fmt.Errorf("invoke: the emulator answered %s: %s", resp.Status, payload)
	}
	res := Result{Payload: payload}
	// The emulator prints REPORT before it answers, but our reader may lag.
	select {
	case res.Report = <-r.reports:
	case <-time.After(2 * time.Second):
		return res, errors.New("invoke: no REPORT line from the emulator")
	}
	return res, nil
}

// Close stops the emulator and the function it runs (see proc.Proc.Stop).
// It is safe to call more than once.
func (r *RIE) Close() error { return r.proc.Stop() }

// Output returns everything the function and the emulator have printed so
// far, one line each.
func (r *RIE) Output() string { return strings.Join(r.out.lines(), "\n") }

// output keeps the emulator's lines and copies each to log unless it is
// nil; it is written by one goroutine and read by anyone.
type output struct {
	log io.Writer
	mu  sync.Mutex
	all []string
}

func (o *output) add(s string) {
	if o.log != nil {
		fmt.Fprintln(o.log, s)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = append(o.all, s)
}

func (o *output) lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.all)
}

// maxLine bounds a line of output held back while it waits for its end.
const maxLine = 1 << 20

// lineWriter hands each complete line written to it (without its newline)
// to line; a line longer than maxLine is handed over in pieces.
type lineWriter struct {
	line    func(string)
	partial []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	rest := append(w.partial, b...)
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		w.line(string(rest[:i]))
		rest = rest[i+1:]
	}
	if len(rest) > maxLine {
		w.line(string(rest))
		rest = nil
	}
	w.partial = append(w.partial[:0], rest...)
	return len(b), nil
}
