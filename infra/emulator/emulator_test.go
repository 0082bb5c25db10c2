package emulator

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flexfactor/credplane/infra/repo"
)

func TestStartAnswersAndCloseStopsEverything(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	begin := time.Now()
	s, err := Start(ctx, Options{Log: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	t.Logf("stack ready in %s: dynamodb=%s kms=%s", time.Since(begin).Round(time.Millisecond), s.DynamoDBEndpoint, s.KMSEndpoint)

	// Both speak their protocol, not just HTTP.
	body := call(t, s.DynamoDBEndpoint, "application/x-amz-json-1.0", "DynamoDB_20120810.ListTables")
	if !strings.Contains(body, "TableNames") {
		t.Errorf("DynamoDB ListTables answered %q", body)
	}
	body = call(t, s.KMSEndpoint, "application/x-amz-json-1.1", "TrentService.ListKeys")
	if !strings.Contains(body, "Keys") {
		t.Errorf("KMS ListKeys answered %q", body)
	}

	if len(s.procs) != 2 {
		t.Fatalf("stack has %d processes, want 2", len(s.procs))
	}
	var pids, ports []int
	for _, p := range s.procs {
		pids = append(pids, p.Pid())
	}
	for _, endpoint := range []string{s.DynamoDBEndpoint, s.KMSEndpoint} {
		u, err := url.Parse(endpoint)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(u.Port())
		if err != nil {
			t.Fatalf("endpoint %s: %v", endpoint, err)
		}
		ports = append(ports, n)
	}
	tmp := s.tmpDir

	begin = time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("stack closed in %s", time.Since(begin).Round(time.Millisecond))
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after Close (kill 0: %v)", pid, err)
		}
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still exists after Close (kill 0: %v)", pid, err)
		}
	}
	for _, port := range ports {
		if !portFree(port) {
			t.Errorf("port %d still in use after Close", port)
		}
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temp dir %s not removed: %v", tmp, err)
	}
}

// call POSTs an empty JSON request for target (unsigned: the emulators do not
// check signatures) and returns the body of a 200 answer.
func call(t *testing.T, endpoint, contentType, target string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint+"/", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20250101/"+Region+"/x/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", target, resp.StatusCode, b)
	}
	return string(b)
}

func TestStartWithoutToolsSaysRunMakeTools(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(repo.ToolsDirEnv, dir)
	_, err := Start(t.Context(), Options{})
	if err == nil {
		t.Fatal("Start succeeded without tools")
	}
	want := "DynamoDB Local not installed at " + filepath.Join(dir, "dynamodb") + ": run make tools"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

// A failing emulator's output ends up in the error, and the other emulator,
// already launched, is stopped. Fake java and local-kms make it deterministic:
// the fake java fails only once the fake local-kms is up.
func TestStartFailureReportsOutputAndStopsTheRest(t *testing.T) {
	dir := t.TempDir()
	mkdir(t, filepath.Join(dir, "dynamodb", "DynamoDBLocal_lib"))
	mkdir(t, filepath.Join(dir, "bin"))
	mkdir(t, filepath.Join(dir, "jdk", "bin"))
	write(t, filepath.Join(dir, "dynamodb", "DynamoDBLocal.jar"), "not a jar", 0o644)
	pidFile := filepath.Join(dir, "kms.pid")
	write(t, filepath.Join(dir, "bin", "local-kms"), "#!/bin/sh\necho $$ > '"+pidFile+"'\nexec sleep 60\n", 0o755)
	write(t, filepath.Join(dir, "jdk", "bin", "java"), "#!/bin/sh\n"+
		"i=0; while [ ! -s '"+pidFile+"' ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done\n"+
		"echo 'fake java: boom' >&2\nexit 3\n", 0o755)
	t.Setenv("JAVA_HOME", filepath.Join(dir, "jdk"))
	t.Setenv(repo.ToolsDirEnv, dir)

	_, err := Start(t.Context(), Options{})
	if err == nil {
		t.Fatal("Start succeeded with a failing java")
	}
	t.Log(err)
	if msg := err.Error(); !strings.Contains(msg, "DynamoDB Local exited before it was ready (exit status 3)") || !strings.Contains(msg, "fake java: boom") {
		t.Fatalf("error lacks the exit or java's output: %q", msg)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("fake local-kms never ran: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("fake local-kms (pid %d) still running after Start failed", pid)
	}
}

func TestStartRejectsBusyOrReservedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port

	for _, o := range []Options{{DynamoDBPort: busy}, {KMSPort: 9001}} {
		_, err := Start(t.Context(), o)
		if err == nil || !(strings.Contains(err.Error(), "in use") || strings.Contains(err.Error(), "reserved")) {
			t.Errorf("Start(%+v) = %v, want a port error", o, err)
		}
	}
}

func TestFromEnvOrStartUsesEnvEndpoints(t *testing.T) {
	t.Setenv("DYNAMODB_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("KMS_ENDPOINT", "http://127.0.0.1:2")
	s, err := FromEnvOrStart(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.DynamoDBEndpoint != "http://127.0.0.1:1" || s.KMSEndpoint != "http://127.0.0.1:2" {
		t.Fatalf("got endpoints %q, %q", s.DynamoDBEndpoint, s.KMSEndpoint)
	}
	if len(s.procs) != 0 {
		t.Fatalf("started %d processes despite the env", len(s.procs))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}
