package faultproxy_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flexfactor/credplane/infra/faultproxy"
)

// upstream stands in for an emulator: it answers "ok".
func upstream(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// get asks p for "/" on a new connection with a client that gives up after
// limit; it returns the status and body, or the error.
func get(p *faultproxy.Proxy, limit time.Duration) (string, error) {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: limit, Transport: tr}
	resp, err := c.Get(p.Endpoint() + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.Status + " " + string(b), err
}

func timedOut(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// TestFaults: each fault does what its name says to a request through the
// proxy, and Heal undoes it.
func TestFaults(t *testing.T) {
	s, err := faultproxy.Start(upstream(t), upstream(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := s.DynamoDB
	healthy := func(t *testing.T) {
		t.Helper()
		if err := s.Heal(); err != nil {
			t.Fatal(err)
		}
		if body, err := get(p, 5*time.Second); err != nil || body != "200 OK ok" {
			t.Fatalf("after Heal: %q %v", body, err)
		}
	}
	tests := []struct {
		name   string
		inject func() error
		// limit is the client's patience; failed checks the outcome.
		limit  time.Duration
		failed func(body string, err error) bool
	}{
		{"latency beyond the client's patience", func() error { return p.Add(faultproxy.Latency(time.Minute, 0)) },
			50 * time.Millisecond, func(_ string, err error) bool { return timedOut(err) }},
		{"latency within it", func() error { return p.Add(faultproxy.Latency(10*time.Millisecond, 5*time.Millisecond)) },
			5 * time.Second, func(body string, err error) bool { return err == nil && body == "200 OK ok" }},
		{"a hang", func() error { return p.Add(faultproxy.Timeout(0)) },
			50 * time.Millisecond, func(_ string, err error) bool { return timedOut(err) }},
		{"a hang on requests", func() error { return p.Add(faultproxy.Timeout(0).On(faultproxy.Requests)) },
			50 * time.Millisecond, func(_ string, err error) bool { return timedOut(err) }},
		{"a reset", func() error { return p.Add(faultproxy.ResetPeer(0)) },
			5 * time.Second, func(_ string, err error) bool { return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) }},
		{"an answer cut short and held open", func() error {
			if err := p.Add(faultproxy.LimitData(8)); err != nil {
				return err
			}
			return p.Add(faultproxy.SlowClose(time.Minute))
		}, 50 * time.Millisecond, func(_ string, err error) bool { return timedOut(err) }},
		{"an answer cut short", func() error { return p.Add(faultproxy.LimitData(8)) },
			5 * time.Second, func(_ string, err error) bool { return err != nil && !timedOut(err) }},
		{"down", func() error { p.Down(); return nil },
			5 * time.Second, func(_ string, err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }},
		{"throttled", p.Throttle,
			5 * time.Second, func(body string, err error) bool {
				return err == nil && strings.HasPrefix(body, "400 ") && strings.Contains(body, "ThrottlingException")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			healthy(t)
			if err := tt.inject(); err != nil {
				t.Fatal(err)
			}
			if body, err := get(p, tt.limit); !tt.failed(body, err) {
				t.Fatalf("got %q, %v", body, err)
			}
			if body, err := get(s.KMS, 5*time.Second); err != nil || body != "200 OK ok" {
				t.Fatalf("the other proxy: %q %v", body, err)
			}
			healthy(t)
		})
	}
}
