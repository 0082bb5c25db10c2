package lambdalocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/flexfactor/credplane/infra/lambdalocal"
	"github.com/flexfactor/credplane/infra/repo"
	"github.com/flexfactor/credplane/infra/samtemplate"
)

// BenchmarkPeakRSS runs each HTTP function's busiest event through its real
// bootstrap under the RIE, b.N times, and reports the bootstrap's peak
// resident set: the design target is 48 MB, so 128 MB functions suffice.
// (A Lambda container serves one request at a time, so sequential
// invocations are the load one container sees.)
func BenchmarkPeakRSS(b *testing.B) {
	if _, err := lambdalocal.FindRIE(); err != nil {
		b.Skipf("no RIE: %v", err)
	}
	tpl, err := samtemplate.LoadRepo()
	if err != nil {
		b.Fatal(err)
	}
	bins, err := bootstraps()
	if err != nil {
		b.Fatal(err)
	}
	fx, err := fixture()
	if err != nil {
		b.Fatal(err)
	}
	root, _ := repo.Root()
	for fn, event := range map[string]string{"TokenFunction": "token.json", "ApiKeysFunction": "create.json", "OnboardFunction": "onboard.json"} {
		b.Run(fn, func(b *testing.B) {
			raw, err := os.ReadFile(filepath.Join(root, "events", event))
			if err != nil {
				b.Fatal(err)
			}
			env, err := lambdalocal.Environment(tpl, fn, env.Config)
			if err != nil {
				b.Fatal(err)
			}
			runEnv := lambdalocal.RuntimeEnvironment(tpl, fn)
			for k, v := range env {
				runEnv[k] = v
			}
			ctx := context.Background()
			rie, err := lambdalocal.StartRIE(ctx, bins[fn], runEnv, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer rie.Close()
			n := 0
			for b.Loop() {
				n++
				// A merchant is onboarded once: give each invocation its own.
				ev := bytes.ReplaceAll(raw, []byte("mid_onboard_demo"), fmt.Appendf(nil, "mid_rss_%d", n))
				filled, _, err := fx.Fill(ctx, ev)
				if err != nil {
					b.Fatal(err)
				}
				res, err := rie.Invoke(ctx, filled)
				if err != nil {
					b.Fatal(err)
				}
				var answer struct {
					StatusCode int  `json:"statusCode"`
					Success    bool `json:"success"`
				}
				if json.Unmarshal(res.Payload, &answer) != nil || (answer.StatusCode != 200 && answer.StatusCode != 201 && !answer.Success) {
					b.Fatalf("%s: unexpected answer %.200s", event, res.Payload)
				}
			}
			rss, err := rie.BootstrapPeakRSS()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
		})
	}
}
