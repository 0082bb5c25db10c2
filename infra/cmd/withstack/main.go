// Command withstack runs a command against a fresh local stack:
//
//	go run ./infra/cmd/withstack -- go test ./...
//
// It starts DynamoDB Local and local-kms (on $DYNAMODB_PORT and $KMS_PORT when
// set, else on free ports), runs the command with DYNAMODB_ENDPOINT and
// KMS_ENDPOINT added to its environment, forwards SIGINT and SIGTERM to it,
// stops the stack and exits with the command's exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/flexfactor/credplane/infra/emulator"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: withstack -- <cmd> [args...]")
		return 2
	}
	var opts emulator.Options
	var err error
	if opts.DynamoDBPort, err = envPort("DYNAMODB_PORT"); err != nil {
		return fail(err)
	}
	if opts.KMSPort, err = envPort("KMS_PORT"); err != nil {
		return fail(err)
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)

	// A signal while the stack boots cancels the boot.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type started struct {
		stack *emulator.Stack
		err   error
	}
	ready := make(chan started, 1)
	go func() {
		s, err := emulator.Start(ctx, opts)
		ready <- started{s, err}
	}()
	var stack *emulator.Stack
	select {
	case r := <-ready:
		if r.err != nil {
			return fail(r.err)
		}
		stack = r.stack
	case sig := <-sigs:
		cancel()
		if r := <-ready; r.err == nil {
			_ = r.stack.Close()
		}
		return 128 + int(sig.(syscall.Signal))
	}
	defer func() {
		if err := stack.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "withstack:", err)
		}
	}()

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"DYNAMODB_ENDPOINT="+stack.DynamoDBEndpoint,
		"KMS_ENDPOINT="+stack.KMSEndpoint)
	if err := cmd.Start(); err != nil {
		fail(err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			return exitCode(err)
		}
	}
}

// exitCode maps the child's end to ours, 128+N for death by signal N.
func exitCode(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		return fail(err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

func envPort(name string) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return 0, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a port number", name, v)
	}
	return p, nil
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "withstack:", err)
	return 1
}
