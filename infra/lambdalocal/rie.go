package lambdalocal

import (
	"bufio"
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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/infra/repo"
)

// RIEBinary is the Runtime Interface Emulator's executable name.
const RIEBinary = "aws-lambda-rie"

// FindRIE returns the emulator installed by `make tools` (in the bin folder
// of repo.ToolsDir), else the one on PATH.
func FindRIE() (string, error) {
	if dir, err := repo.ToolsDir(); err == nil {
		p := filepath.Join(dir, "bin", RIEBinary)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(RIEBinary)
	if err != nil {
		return "", fmt.Errorf("%s not found (run make tools)", RIEBinary)
	}
	return p, nil
}

// RIE is one function's bootstrap running under the Runtime Interface
// Emulator. It serves one invocation at a time, like a Lambda instance; the
// first one includes the cold start. Close it when done.
type RIE struct {
	url     string
	cmd     *exec.Cmd
	out     *output
	reports chan string
	exited  chan struct{}
	once    sync.Once
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

var initDuration = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)

// InitDuration is the Init Duration the report gives, and whether it gives one.
func (r Result) InitDuration() (time.Duration, bool) {
	m := initDuration.FindStringSubmatch(r.Report)
	if m == nil {
		return 0, false
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

// StartRIE runs bootstrap under the emulator with exactly the environment
// env (nothing is inherited but PATH; HOME is the bootstrap's folder, so no
// ~/.aws files are read). Everything the function and the emulator print
// is kept (see Output) and copied to log unless it is nil.
func StartRIE(ctx context.Context, bootstrap string, env map[string]string, log io.Writer) (*RIE, error) {
	rie, err := FindRIE()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = io.Discard
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
	full := map[string]string{"PATH": os.Getenv("PATH"), "HOME": cmd.Dir}
	for k, v := range env {
		full[k] = v
	}
	cmd.Env = envList(full)
	// Its own process group, so Close also stops the bootstrap it spawns.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", RIEBinary, err)
	}
	r := &RIE{
		url:     "http://" + addr + "/2015-03-31/functions/function/invocations",
		cmd:     cmd,
		out:     &output{},
		reports: make(chan string, 16),
		exited:  make(chan struct{}),
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			r.out.add(line)
			if strings.HasPrefix(line, "REPORT RequestId:") {
				select {
				case r.reports <- line:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out) // past an over-long line: keep the pipe flowing
		_ = cmd.Wait()
		close(r.exited)
	}()
	if err := r.waitReady(ctx, addr); err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w; last output:\n%s", RIEBinary, err, r.out.tail(20))
	}
	return r, nil
}

func (r *RIE) waitReady(ctx context.Context, addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-r.exited:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after 10s", addr)
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

// Close stops the emulator and the function: SIGTERM to the process group,
// SIGKILL after 3 s. It is safe to call more than once.
func (r *RIE) Close() {
	r.once.Do(func() {
		pgid := r.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-r.exited:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-r.exited
		}
		// Whatever the emulator left behind in its group goes too.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
}

// Output returns everything the function and the emulator have printed so
// far, one line each.
func (r *RIE) Output() string { return strings.Join(r.out.lines(), "\n") }

// output keeps the emulator's lines; it is written by one reader goroutine
// and read by anyone.
type output struct {
	mu  sync.Mutex
	all []string
}

func (o *output) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = append(o.all, s)
}

func (o *output) lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.all)
}

// tail returns the last n lines, for error messages.
func (o *output) tail(n int) string {
	l := o.lines()
	if len(l) == 0 {
		return "(no output)"
	}
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
