package lambdalocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/flexfactor/credplane/infra/proc"
)

// runtimeNextPath is where a Lambda runtime asks for its next event: its
// first request there ends the init phase.
const runtimeNextPath = "/2018-06-01/runtime/invocation/next"

// MeasureInit runs bootstrap against a stand-in Runtime API, runs times
// times, and returns the median time from starting the process to its first
// request for an event. That span is Lambda's init phase, which the Init
// Duration of a REPORT line measures in AWS.
//
// The emulator's own REPORT "Init Duration" cannot be used for it: its Init
// returns as soon as it has handed the start to the runtime (rapidcore
// Server.Init waits for init completion in a goroutine), so it reports well
// under a millisecond whatever the bootstrap does before it is ready.
func MeasureInit(ctx context.Context, bootstrap string, env map[string]string, runs int) (time.Duration, error) {
	if runs < 1 {
		runs = 1
	}
	var all []time.Duration
	for range runs {
		d, err := measureInitOnce(ctx, bootstrap, env)
		if err != nil {
			return 0, err
		}
		all = append(all, d)
	}
	slices.Sort(all)
	return all[len(all)/2], nil
}

func measureInitOnce(ctx context.Context, bootstrap string, env map[string]string) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	next := make(chan time.Time, 1)
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == runtimeNextPath {
			select {
			case next <- time.Now():
			default:
			}
		}
		// Hold the runtime here: it is measured, not served.
		<-release
		w.WriteHeader(http.StatusServiceUnavailable)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		close(release)
		_ = srv.Close()
	}()

	cmd := exec.Command(bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(processEnv(cmd.Dir, env), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	start := time.Now()
	p, err := proc.Start(bootstrap, cmd, nil)
	if err != nil {
		return 0, err
	}
	defer p.Stop()
	select {
	case t := <-next:
		return t.Sub(start), nil
	case <-p.Done():
		return 0, fmt.Errorf("%s exited before asking for an event; last output:\n%s", bootstrap, p.Tail())
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(10 * time.Second):
		return 0, errors.New("no request for an event within 10s")
	}
}
