package httpapi

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/logging"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/oklog/ulid/v2"
)

// Wrap adds, outermost first: a request id (API Gateway's when there is one)
// in the context and the X-Request-Id header, one access log line (saying
// whether the request's deadline had passed) and one metric line per
// request (m may be nil: no metrics), and recovery from panics as a 500.
// The metric line also holds what the handler recorded in the request's
// metrics scope (metrics.Record).
func Wrap(h http.Handler, log *slog.Logger, m *metrics.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		scope := m.Scope(id)
		ctx := metrics.NewContext(logging.WithRequestID(r.Context(), id), scope)
		ctx = audit.WithOrigin(ctx, audit.Origin{RequestID: id, SourceIP: sourceIP(r), UserAgent: r.UserAgent()})
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "panic", "panic", slog.AnyValue(p).String())
				if !rec.wrote {
					Errors(rec, http.StatusInternalServerError, MsgInternal)
				}
			}
			elapsed := time.Since(start)
			log.InfoContext(ctx, "request",
				"method", r.Method,
				"route", r.Pattern,
				"status", rec.status,
				"duration_ms", float64(elapsed.Microseconds())/1000,
				"deadline_exceeded", errors.Is(ctx.Err(), context.DeadlineExceeded))
			requestMetrics(scope, r.Pattern, rec.status, elapsed)
		}()
		h.ServeHTTP(rec, r)
	})
}

// requestID is API Gateway's request id when the request came through it,
// otherwise a new ULID.
func requestID(r *http.Request) string {
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && gw.RequestID != "" {
		return gw.RequestID
	}
	return ulid.MustNew(ulid.Now(), rand.Reader).String()
}

// sourceIP is the client's address: API Gateway's view of it when the
// request came through it, otherwise the connection's.
func sourceIP(r *http.Request) string {
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && gw.HTTP.SourceIP != "" {
		return gw.HTTP.SourceIP
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// NotFound answers unknown routes with the generic JSON body.
func NotFound(w http.ResponseWriter, _ *http.Request) {
	Errors(w, http.StatusNotFound, MsgNotFound)
}
