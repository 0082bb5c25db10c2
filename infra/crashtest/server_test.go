package crashtest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// buildServer builds infra/cmd/stageserver into the test's temporary folder.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stageserver")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/flexfactor/credplane/infra/cmd/stageserver").CombinedOutput()
	if err != nil {
		t.Fatalf("build stageserver: %v\n%s", err, out)
	}
	return bin
}

// server is one run of the server process.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

// startServer runs the server on the test's stage, on a free loopback
// port, and returns once it accepts connections. Its output goes to logPath.
func startServer(t *testing.T, bin, logPath string) *server {
	t.Helper()
	env := apitest.Env()
	c := env.Config
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(),
		"STAGE="+string(c.Stage), "TABLE_NAME="+c.TableName, "AUDIT_TABLE_NAME="+c.AuditTableName, "TOKEN_RATE_LIMIT=1000000", "AWS_REGION="+c.Region,
		"KMS_DATA_KEY_ID="+c.DataKeyID, "KMS_SIGNING_KEY_ID="+c.SigningKeyID,
		"TOKEN_ISSUER="+c.Issuer, "TOKEN_AUDIENCE="+c.Audience,
		"DYNAMODB_ENDPOINT="+c.DynamoDBEndpoint, "KMS_ENDPOINT="+c.KMSEndpoint, "LOG_LEVEL=warn")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	addr := make(chan string, 1)
	cmd.Stdout = &announced{log: logf, addr: addr}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(s.kill)
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case <-s.done:
		t.Fatalf("the server exited before it listened; see %s", logPath)
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not listen within 30 s; see %s", logPath)
	}
	return s
}

// kill ends the process with SIGKILL, as a crash or a Lambda timeout
// would, and waits until it is gone.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// announced passes the server's output to log, except the line that
// announces its address, which it sends on addr.
type announced struct {
	log  io.Writer
	addr chan<- string
	buf  []byte
}

func (a *announced) Write(p []byte) (int, error) {
	a.buf = append(a.buf, p...)
	for {
		i := bytes.IndexByte(a.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := a.buf[:i+1]
		if rest, ok := bytes.CutPrefix(line, []byte("listening on ")); ok {
			a.addr <- string(bytes.TrimSpace(rest))
		} else if _, err := a.log.Write(line); err != nil {
			return 0, err
		}
		a.buf = a.buf[i+1:]
	}
}
