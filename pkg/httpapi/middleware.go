package httpapi

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/flexfactor/credplane/pkg/logging"
	"github.com/oklog/ulid/v2"
)

// Wrap adds, outermost first: a request id (API Gateway's when there is one)
// in the context and the X-Request-Id header, one access log line per
// request (saying whether the request's deadline had passed), and recovery
// from panics as a 500.
func Wrap(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		ctx := logging.WithRequestID(r.Context(), id)
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
			log.InfoContext(ctx, "request",
				"method", r.Method,
				"route", r.Pattern,
				"status", rec.status,
				"duration_ms", float64(time.Since(start).Microseconds())/1000,
				"deadline_exceeded", errors.Is(ctx.Err(), context.DeadlineExceeded))
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
