package handlers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestLogsHoldNoSecrets runs last in the package (file order): every key
// value, access token and refresh token that any test sent or received must
// be absent from the captured logs, as must their digests.
func TestLogsHoldNoSecrets(t *testing.T) {
	// Make sure this test sees every kind of secret even when run alone.
	m := newMerchant(t)
	tok := tokenFor(t, m)
	do(t, app(), "POST", "/v1/api-keys", bearer(tok), `{"mid":"`+m.MID+`","name":"n","type":"secret"}`)
	do(t, app(), "POST", "/v1/api-keys", bearer(tok[:len(tok)-3]), `{"mid":"`+m.MID+`","name":"n","type":"secret"}`)
	do(t, app(), "POST", "/v1/oauth2/token", jsonCT, `{"AppKey":"`+m.AppKey+`","AppSecret":"`+m.AppKey+`"}`)

	out := logs.String()
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

	secrets.Lock()
	all := make(map[string]string, len(secrets.seen))
	kinds := map[string]int{}
	for s := range secrets.seen {
		kinds[s[:3]]++
		all[fmt.Sprintf("%s… value #%d", s[:3], kinds[s[:3]])] = s
	}
	secrets.Unlock()
	for _, k := range []string{"sk_", "pk_", "rt_", "eyJ"} {
		if kinds[k] == 0 {
			t.Fatalf("no %s value was seen: the check would be vacuous (%v)", k, kinds)
		}
	}
	assertNotLogged(t, all)
	if strings.Contains(out, "DIGEST#") || strings.Contains(out, "Authorization") {
		t.Fatal("logs mention a storage digest key or an Authorization header")
	}
}
