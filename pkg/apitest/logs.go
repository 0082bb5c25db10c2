package apitest

import (
	"encoding/json"
	"strings"
)

// LogLinesOf returns the captured log lines of the request that r
// answered (by its X-Request-Id), decoded, in the order written.
func LogLinesOf(r Response) []map[string]any {
	id := r.Header.Get("X-Request-Id")
	var out []map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["request_id"] == id {
			out = append(out, rec)
		}
	}
	return out
}
