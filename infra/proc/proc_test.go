package proc

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveEnv makes the test binary, run as a child by a test, serve HTTP on
// the address it names instead of running the tests.
const serveEnv = "PROC_TEST_SERVE"

func TestMain(m *testing.M) {
	if addr := os.Getenv(serveEnv); addr != "" {
		fmt.Println("serving on", addr)
		err := http.ListenAndServe(addr, http.NotFoundHandler())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestWaitHTTPReturnsOnceTheServerAnswers(t *testing.T) {
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serveEnv+"="+addr)
	var out bytes.Buffer // read only once the process is gone
	p, err := Start("server", cmd, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if err := p.WaitHTTP(t.Context(), addr, time.Now().Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Stop returned before the process exited")
	}
	want := "serving on " + addr
	if !strings.Contains(p.Tail(), want) || !strings.Contains(out.String(), want) {
		t.Errorf("tail %q or output %q lacks %q", p.Tail(), out.String(), want)
	}
}

func TestWaitHTTPReportsAnEarlyExitWithItsOutput(t *testing.T) {
	p, err := Start("failing tool", exec.Command("sh", "-c", "echo 'it broke' >&2; exit 3"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	err = p.WaitHTTP(t.Context(), freeAddr(t), time.Now().Add(30*time.Second))
	if !errors.Is(err, ErrExited) {
		t.Fatalf("err = %v, want ErrExited", err)
	}
	for _, want := range []string{"failing tool exited before it was ready (exit status 3)", "it broke"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// Stop reaches what the process started, not only the process.
func TestStopEndsTheWholeGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	p, err := Start("parent", exec.Command("sh", "-c", "sleep 60 & echo $! > '"+pidFile+"'; exec sleep 60"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	var child int
	for child == 0 {
		select {
		case <-p.Done():
			t.Fatalf("parent exited: %s", p.Tail())
		case <-time.After(10 * time.Millisecond):
		}
		b, _ := os.ReadFile(pidFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	for _, pid := range []int{p.Pid(), child} {
		if alive(pid) {
			t.Errorf("process %d still running after Stop", pid)
		}
	}
}

// alive reports whether pid runs: a killed process that no one has reaped
// yet (the child above belongs to init once its parent is gone) does not.
func alive(pid int) bool {
	for range 100 {
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			return false
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
				return false
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
