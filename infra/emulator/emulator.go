// Package emulator runs the local AWS stack that tests, benchmarks and the
// dev server talk to: DynamoDB Local and local-kms, started as plain child
// processes on 127.0.0.1 (no Docker). The tools are installed by
// `make tools` (infra/scripts/install-tools.sh).
//
// Test packages call FromEnvOrStart from TestMain, so `go test ./...` works
// on its own and `make test` (which runs the tests under infra/cmd/withstack)
// shares one stack between all packages.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/flexfactor/credplane/infra/proc"
	"github.com/flexfactor/credplane/infra/repo"
)

// Region is the AWS region that local-kms is started with; use it for every
// SDK client pointed at the stack.
const Region = "us-east-1"

// accountID is the AWS account id that local-kms puts in key ARNs.
const accountID = "111122223333"

// rieReservedPort is taken by the Lambda Runtime Interface Emulator for
// itself (its default Runtime API port): nothing of ours may listen there.
const rieReservedPort = 9001

const (
	readyTimeout = 30 * time.Second
	// portAttempts bounds how often a service is relaunched on a fresh port
	// when the free port it was given got taken before it could bind.
	portAttempts = 3
)

// Options says how Start runs the stack. The zero value is ready to use.
//
// The emulators are taken from the tools folder of repo.ToolsDir (its
// dynamodb/ and bin/).
type Options struct {
	// DynamoDBPort and KMSPort are the ports to serve on; 0 picks a free
	// port on 127.0.0.1.
	DynamoDBPort, KMSPort int
	// Log receives the emulators' output, each line prefixed with the
	// emulator's name; nil discards it. The last few KiB are kept either way
	// and reported if an emulator fails to start.
	Log io.Writer
}

// Stack is a running local stack. Close it when done.
type Stack struct {
	// DynamoDBEndpoint is DynamoDB Local's base URL, such as
	// "http://127.0.0.1:41234".
	DynamoDBEndpoint string
	// KMSEndpoint is local-kms's base URL, such as "http://127.0.0.1:41235".
	KMSEndpoint string

	procs     []*proc.Proc
	tmpDir    string
	closeOnce sync.Once
	closeErr  error
}

// FromEnvOrStart returns the stack named by the environment variables
// DYNAMODB_ENDPOINT and KMS_ENDPOINT when both are set (its Close does
// nothing: whoever started it stops it), and otherwise starts a private stack
// with Start and default Options. Test packages call it from TestMain.
func FromEnvOrStart(ctx context.Context) (*Stack, error) {
	ddb, kms := os.Getenv("DYNAMODB_ENDPOINT"), os.Getenv("KMS_ENDPOINT")
	if ddb != "" && kms != "" {
		return &Stack{DynamoDBEndpoint: ddb, KMSEndpoint: kms}, nil
	}
	return Start(ctx, Options{})
}

// Start launches DynamoDB Local and local-kms, each in its own process group,
// and returns once both answer HTTP requests (at most 30 s). ctx bounds the
// start only: cancelling it later does not stop the stack; Close does. On
// failure Start stops whatever it launched and returns an error that ends
// with the failing emulator's last output.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	dir, err := repo.ToolsDir()
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	ddbDir := filepath.Join(dir, "dynamodb")
	jar := filepath.Join(ddbDir, "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("emulator: DynamoDB Local not installed at %s: run make tools", ddbDir)
	}
	kmsBin := filepath.Join(dir, "bin", "local-kms")
	if _, err := os.Stat(kmsBin); err != nil {
		return nil, fmt.Errorf("emulator: local-kms not installed at %s: run make tools", kmsBin)
	}
	java, err := findJava()
	if err != nil {
		return nil, err
	}
	for _, p := range []int{o.DynamoDBPort, o.KMSPort} {
		if err := checkPort(p); err != nil {
			return nil, err
		}
	}

	tmp, err := os.MkdirTemp("", "credplane-stack-")
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	s := &Stack{tmpDir: tmp}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	ddbWork := filepath.Join(tmp, "dynamodb")
	kmsData := filepath.Join(tmp, "kms-data")
	for _, d := range []string{ddbWork, kmsData} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, fmt.Errorf("emulator: %w", err)
		}
	}
	logw := newLockedWriter(o.Log)

	services := []*service{
		{
			name: "DynamoDB Local",
			tag:  "dynamodb",
			port: o.DynamoDBPort,
			command: func(port int) *exec.Cmd {
				cmd := exec.Command(java,
					"-Djava.library.path="+filepath.Join(ddbDir, "DynamoDBLocal_lib"),
					"-jar", jar,
					"-inMemory", "-disableTelemetry",
					"-port", strconv.Itoa(port))
				cmd.Dir = ddbWork
				return cmd
			},
		},
		{
			name: "local-kms",
			tag:  "kms",
			port: o.KMSPort,
			command: func(port int) *exec.Cmd {
				cmd := exec.Command(kmsBin)
				cmd.Dir = tmp
				cmd.Env = append(os.Environ(),
					"PORT="+strconv.Itoa(port),
					"KMS_REGION="+Region,
					"KMS_ACCOUNT_ID="+accountID,
					"KMS_DATA_PATH="+kmsData,
					// Never pick up a machine-wide seed file (the default is
					// /init/seed.yaml): this one does not exist.
					"KMS_SEED_PATH="+filepath.Join(tmp, "no-kms-seed.yaml"),
				)
				return cmd
			},
		},
	}

	// Launch both first so they boot in parallel, then wait for each.
	for _, svc := range services {
		if err := s.launch(svc, logw); err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(readyTimeout)
	for _, svc := range services {
		if err := s.waitReady(ctx, svc, deadline, logw); err != nil {
			return nil, err
		}
	}
	s.DynamoDBEndpoint = services[0].endpoint()
	s.KMSEndpoint = services[1].endpoint()
	return s, nil
}

// Close stops both emulators (SIGTERM to each process group, SIGKILL after
// 3 s) and removes the stack's temporary files. It is safe to call more than
// once and on a Stack from FromEnvOrStart that it did not start, where it does
// nothing.
func (s *Stack) Close() error {
	if s == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		errs := make([]error, len(s.procs))
		var wg sync.WaitGroup
		for i, p := range s.procs {
			wg.Go(func() {
				if err := p.Stop(); err != nil {
					errs[i] = fmt.Errorf("emulator: %w", err)
				}
			})
		}
		wg.Wait()
		if s.tmpDir != "" {
			errs = append(errs, os.RemoveAll(s.tmpDir))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// service is one emulator: how to launch it on a port, and its current process.
type service struct {
	name    string
	tag     string // prefix for its log lines
	port    int    // requested port; 0 = pick one
	command func(port int) *exec.Cmd

	cur     *proc.Proc
	curPort int
}

func (svc *service) addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(svc.curPort))
}

func (svc *service) endpoint() string { return "http://" + svc.addr() }

// launch starts svc on its requested port or a fresh free one.
func (s *Stack) launch(svc *service, logw *lockedWriter) error {
	port := svc.port
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return err
		}
	}
	p, err := proc.Start(svc.name, svc.command(port), logw.prefixed(svc.tag))
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	s.procs = append(s.procs, p)
	svc.cur, svc.curPort = p, port
	return nil
}

// waitReady waits for svc to answer. A service on a port we picked that died
// because someone else took the port meanwhile is relaunched on another one.
func (s *Stack) waitReady(ctx context.Context, svc *service, deadline time.Time, logw *lockedWriter) error {
	for attempt := 1; ; attempt++ {
		err := svc.cur.WaitHTTP(ctx, svc.addr(), deadline)
		if err == nil {
			return nil
		}
		if svc.port != 0 || attempt >= portAttempts || !errors.Is(err, proc.ErrExited) || portFree(svc.curPort) {
			return fmt.Errorf("emulator: %w", err)
		}
		if err := s.launch(svc, logw); err != nil {
			return err
		}
	}
}

// findJava returns $JAVA_HOME/bin/java when JAVA_HOME is set, else java on PATH.
func findJava() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		java := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(java); err != nil {
			return "", fmt.Errorf("emulator: JAVA_HOME is %s but %s is missing: fix JAVA_HOME or run make tools", home, java)
		}
		return java, nil
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return "", errors.New("emulator: no java on PATH (DynamoDB Local needs a Java runtime): run make tools")
	}
	return java, nil
}

// checkPort rejects a requested port that cannot be used. 0 is fine.
func checkPort(port int) error {
	switch {
	case port == 0:
		return nil
	case port < 0 || port > 65535:
		return fmt.Errorf("emulator: invalid port %d", port)
	case port == rieReservedPort:
		return fmt.Errorf("emulator: port %d is reserved for the Lambda Runtime Interface Emulator", port)
	case !portFree(port):
		return fmt.Errorf("emulator: port %d on 127.0.0.1 is already in use", port)
	}
	return nil
}

// FreePort asks the kernel for a port that is free on 127.0.0.1 right now,
// never the port the Lambda Runtime Interface Emulator takes for itself.
func FreePort() (int, error) {
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("emulator: finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if port != rieReservedPort {
			return port, nil
		}
	}
}

// portFree reports whether nothing listens on port (on 127.0.0.1 or on all
// interfaces).
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
