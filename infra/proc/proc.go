// Package proc runs the local tools (DynamoDB Local, local-kms, the Lambda
// Runtime Interface Emulator, function bootstraps) as child processes that
// stop together with whatever they started: each one leads a process group
// of its own, and on Linux dies with the process that started it.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

const (
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 3 * time.Second
	// killWait bounds the wait for a process to go after SIGKILL.
	killWait     = 5 * time.Second
	tailBytes    = 4 << 10
	pollInterval = 20 * time.Millisecond
)

// ErrExited says that a process ended before it was ready.
var ErrExited = errors.New("exited before it was ready")

// Proc is a running child process, leader of its own process group.
type Proc struct {
	name string
	cmd  *exec.Cmd
	tail *tail

	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // cmd.Wait's result, set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start starts cmd as the leader of a new process group; name is what
// messages call it. Its standard output and error are copied to out unless
// out is nil, and the last few KiB of them are kept for error messages.
func Start(name string, cmd *exec.Cmd, out io.Writer) (*Proc, error) {
	p := &Proc{name: name, cmd: cmd, tail: &tail{}, done: make(chan struct{})}
	w := io.Writer(p.tail)
	if out != nil {
		w = teeWriter{p.tail, out}
	}
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	// Bound how long Wait waits for the output pipes once the process is
	// gone (a grandchild may still hold them).
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id, which is also its process group id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Tail returns the end of the process's output so far.
func (p *Proc) Tail() string { return p.tail.String() }

// exited describes a process that is gone; call it after done is closed.
func (p *Proc) exited() error {
	status := "exit status 0"
	if p.waitErr != nil {
		status = p.waitErr.Error()
	}
	return fmt.Errorf("%s %w (%s); last output:\n%s", p.name, ErrExited, status, p.Tail())
}

// WaitHTTP polls until the process's server at addr (host:port) answers an
// HTTP request with any response. It fails with ErrExited when the process
// ends first, and also fails when ctx ends or deadline passes.
func (p *Proc) WaitHTTP(ctx context.Context, addr string, deadline time.Time) error {
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	for {
		select {
		case <-p.done:
			return p.exited()
		default:
		}
		if answers(ctx, client, addr) {
			select {
			case <-p.done: // someone else answered on its port
				return p.exited()
			default:
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not answering on %s in time; last output:\n%s", p.name, addr, p.Tail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", p.name, ctx.Err())
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
	return true
}

// Stop ends the process group: SIGTERM, then SIGKILL after 3 s, then
// SIGKILL to whatever the leader left behind in its group. It is safe to
// call more than once and returns the first call's result.
func (p *Proc) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

func (p *Proc) stop() error {
	pgid := p.Pid()
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(killWait):
				return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
			}
		}
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping %s: %w", p.name, err)
	}
	return nil
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

// teeWriter writes to the tail and, best effort, to out: a failing out must
// not break the process's output pipe.
type teeWriter struct {
	t   *tail
	out io.Writer
}

func (w teeWriter) Write(b []byte) (int, error) {
	_, _ = w.out.Write(b)
	return w.t.Write(b)
}
