package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// TestLogLinesAreStructured: every captured line is JSON, access lines carry
// the request id, and no line names a storage digest key or an
// Authorization header. (That no secret any test sent or received reached
// the logs is checked by apitest.Main after every test of the package.)
func TestLogLinesAreStructured(t *testing.T) {
	// Make sure this test sees every kind of secret even when run alone.
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok), `{"mid":"`+m.MID+`","name":"n","type":"secret"}`)
	apitest.Do(t, apitest.App(), "POST", "/v1/api-keys", apitest.Bearer(tok[:len(tok)-3]), `{"mid":"`+m.MID+`","name":"n","type":"secret"}`)
	apitest.Do(t, apitest.App(), "POST", "/v1/oauth2/token", apitest.JSONCT, `{"AppKey":"`+m.AppKey+`","AppSecret":"`+m.AppKey+`"}`)

	out := apitest.Logs().String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 5 {
		t.Fatalf("only %d log lines captured: the test would prove nothing", len(lines))
	}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if rec["msg"] == "request" && rec["request_id"] == nil {
			t.Fatalf("access log without request_id: %q", l)
		}
	}

	kinds := apitest.Seen()
	for _, k := range []string{"sk_", "pk_", "rt_", "eyJ"} {
		if kinds[k] == 0 {
			t.Fatalf("no %s value was seen: the check after the tests would be vacuous (%v)", k, kinds)
		}
	}
	if strings.Contains(out, "DIGEST#") || strings.Contains(out, "Authorization") {
		t.Fatal("logs mention a storage digest key or an Authorization header")
	}
}
