package lambdalocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flexfactor/credplane/infra/lambdalocal"
	"github.com/flexfactor/credplane/infra/repo"
)

// BenchmarkInit starts each function's real bootstrap b.N times against a
// stand-in Runtime API (see lambdalocal.MeasureInit) and reports the median
// time from process start to its first request for an event: Lambda's init
// phase, which the design wants at 20 ms or less. The figure is the
// harness's, so the time per iteration is left out.
func BenchmarkInit(b *testing.B) {
	tpl, bins := built(b)
	for _, fn := range tpl.Functions() {
		b.Run(fn, func(b *testing.B) {
			runEnv := functionEnv(b, tpl, fn, env.Config)
			var all []time.Duration
			for b.Loop() {
				d, err := lambdalocal.MeasureInit(b.Context(), bins[fn], runEnv, 1)
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, d)
			}
			slices.Sort(all)
			b.ReportMetric(float64(all[len(all)/2])/float64(time.Millisecond), "init-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkPeakRSS runs each HTTP function's busiest event through its real
// bootstrap under the RIE, b.N times, and reports the bootstrap's peak
// resident set: the design target is 48 MB, so 128 MB functions suffice.
// (A Lambda container serves one request at a time, so sequential
// invocations are the load one container sees.)
func BenchmarkPeakRSS(b *testing.B) {
	if _, err := lambdalocal.FindRIE(); err != nil {
		b.Skipf("no RIE: %v", err)
	}
	tpl, bins := built(b)
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
			ctx := context.Background()
			// Every invocation exchanges the same key pair: no limit per
			// minute may refuse them.
			cfg := env.Config
			cfg.TokenRateLimit = 1 << 30
			rie, err := lambdalocal.StartRIE(ctx, bins[fn], functionEnv(b, tpl, fn, cfg), nil)
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
