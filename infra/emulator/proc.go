package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	tailBytes    = 4 << 10
	pollInterval = 50 * time.Millisecond
)

// proc is one running emulator process, leader of its own process group.
type proc struct {
	name string
	port int
	cmd  *exec.Cmd
	out  *tail

	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // cmd.Wait's result, set before done is closed
}

// exitedError says that an emulator exited before it was ready.
type exitedError struct {
	name string
	err  error
	out  string
}

func (e *exitedError) Error() string {
	status := "exit status 0"
	if e.err != nil {
		status = e.err.Error()
	}
	return fmt.Sprintf("emulator: %s exited before it was ready (%s); last output:\n%s", e.name, status, e.out)
}

func startProc(name string, port int, cmd *exec.Cmd, logw io.Writer) (*proc, error) {
	p := &proc{name: name, port: port, cmd: cmd, out: &tail{}, done: make(chan struct{})}
	w := io.Writer(p.out)
	if logw != nil {
		w = teeWriter{p.out, logw}
	}
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	// Bound how long Wait waits for the output pipes once the process is gone.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("emulator: starting %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() *exitedError {
	return &exitedError{name: p.name, err: p.waitErr, out: p.out.String()}
}

// waitReady polls until the process accepts a TCP connection and answers an
// HTTP request with any response, it exits, ctx ends or deadline passes.
func (p *proc) waitReady(ctx context.Context, deadline time.Time) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-p.done:
			return p.exited()
		default:
		}
		if answers(ctx, client, addr) {
			select {
			case <-p.done: // someone else answered on our port
				return p.exited()
			default:
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("emulator: %s not ready on %s after %s; last output:\n%s", p.name, addr, readyTimeout, p.out.String())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("emulator: waiting for %s: %w", p.name, ctx.Err())
		case <-p.done:
			return p.exited()
		case <-time.After(pollInterval):
		}
	}
}

func answers(ctx context.Context, client *http.Client, addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
	if err != nil {
		return false
	}
	_ = conn.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	client.CloseIdleConnections()
	return true
}

// stop ends the process group: SIGTERM, then SIGKILL after stopGrace.
func (p *proc) stop() error {
	pgid := p.cmd.Process.Pid
	select {
	case <-p.done:
	default:
		_ = signalGroup(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = signalGroup(pgid, syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				return fmt.Errorf("emulator: %s (pid %d) did not exit after SIGKILL", p.name, pgid)
			}
		}
	}
	// Whatever the leader left behind in its group goes too.
	if err := signalGroup(pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("emulator: stopping %s: %w", p.name, err)
	}
	return nil
}

func signalGroup(pgid int, sig syscall.Signal) error {
	return syscall.Kill(-pgid, sig)
}

// tail keeps the last tailBytes bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - tailBytes; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return "(no output)"
	}
	return string(bytes.TrimRight(t.buf, "\n"))
}

// teeWriter writes to the tail and, best effort, to the log: a failing log
// must not break the emulator's output pipe.
type teeWriter struct {
	t   *tail
	log io.Writer
}

func (w teeWriter) Write(b []byte) (int, error) {
	_, _ = w.log.Write(b)
	return w.t.Write(b)
}

// lockedWriter serialises the emulators' writes to the shared Options.Log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newLockedWriter(w io.Writer) *lockedWriter {
	if w == nil {
		return nil
	}
	return &lockedWriter{w: w}
}

// prefixed returns a writer that prefixes each line with "[tag] "; nil if lw is.
func (lw *lockedWriter) prefixed(tag string) io.Writer {
	if lw == nil {
		return nil
	}
	return &prefixWriter{lw: lw, prefix: []byte("[" + tag + "] "), atStart: true}
}

// prefixWriter is used by a single process's output copier, so its own state
// needs no lock; the shared destination is locked per write.
type prefixWriter struct {
	lw      *lockedWriter
	prefix  []byte
	atStart bool
}

func (pw *prefixWriter) Write(b []byte) (int, error) {
	var out []byte
	for rest := b; len(rest) > 0; {
		if pw.atStart {
			out = append(out, pw.prefix...)
			pw.atStart = false
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			out = append(out, rest...)
			break
		}
		out = append(out, rest[:i+1]...)
		rest = rest[i+1:]
		pw.atStart = true
	}
	pw.lw.mu.Lock()
	defer pw.lw.mu.Unlock()
	if _, err := pw.lw.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
