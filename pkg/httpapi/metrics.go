package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/flexfactor/credplane/pkg/metrics"
)

// unmatchedRoute is the Route dimension of requests no route matched
// (the mux's catch-all pattern "/").
const unmatchedRoute = "unmatched"

// requestMetrics adds a request's own metrics to its scope and writes the
// scope's line: the count by route and status class, the latency by route,
// and a 429 the service answered itself. The route is the pattern that
// matched, never the path, so no path parameter (a key id, a merchant id)
// reaches a metric.
func requestMetrics(s *metrics.Scope, pattern string, status int, elapsed time.Duration) {
	route := pattern
	if route == "" || route == "/" {
		route = unmatchedRoute
	}
	s.Count(metrics.Requests, metrics.DimRoute, route, metrics.DimStatusClass, statusClass(status))
	s.Add(metrics.Latency, float64(elapsed.Microseconds())/1000, metrics.DimRoute, route)
	if status == http.StatusTooManyRequests {
		s.Count(metrics.RateLimited, metrics.DimRoute, route)
	}
	s.Flush()
}

// statusClass is "2xx" for 200-299 and so on.
func statusClass(status int) string {
	return strconv.Itoa(status/100) + "xx"
}
