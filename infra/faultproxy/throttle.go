package faultproxy

import (
	"net"
	"net/http"
	"sync"
)

// throttleBody is AWS's answer to a throttled call, in the JSON protocol
// that DynamoDB and KMS share (the SDK reads the code from __type).
const throttleBody = `{"__type":"ThrottlingException","message":"Rate exceeded"}`

// throttler is an endpoint answering every request with throttleBody,
// started on first use.
type throttler struct {
	mu  sync.Mutex
	srv *http.Server
	ln  net.Listener
}

func (s *throttler) addr() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String(), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-Errortype", "ThrottlingException")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(throttleBody))
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return ln.Addr().String(), nil
}

func (s *throttler) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		_ = s.srv.Close()
	}
}
