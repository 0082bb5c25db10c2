package dashboard_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/flexfactor/credplane/infra/repo"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/dashboard"
)

// chromium is Debian's Chromium, which `make tools` installs.
const chromium = "/usr/bin/chromium"

// shared is the one headless Chromium of the test binary; each test opens
// its own tab in it. stopBrowser (TestMain) closes it.
var shared struct {
	once   sync.Once
	ctx    context.Context
	stop   func()
	reason string // why there is no browser
}

func startBrowser() {
	if _, err := os.Stat(chromium); err != nil {
		shared.reason = "Chromium is not installed at " + chromium + " (make tools installs it with apt-get, which failed or is not available here)"
		return
	}
	profile, err := os.MkdirTemp("", "dashboard-chromium-")
	if err != nil {
		shared.reason = err.Error()
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 860),
		// Belt and braces: no name but loopback resolves, so nothing the
		// browser might try on its own can leave the machine.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	shared.stop = func() {
		cancelCtx()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		shared.stop()
		shared.stop, shared.reason = nil, "Chromium did not start: "+err.Error()
		return
	}
	shared.ctx = ctx
}

func stopBrowser() {
	if shared.stop != nil {
		shared.stop()
	}
}

// tab is one browser tab on a server of the real stack, with everything it
// requested and every console error or uncaught exception recorded.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // http://127.0.0.1:port

	mu        sync.Mutex
	requested []string                   // every URL the page requested
	documents map[string]network.Headers // response headers of each document, by URL
	problems  []string                   // console errors and uncaught exceptions
}

// openTab serves h on 127.0.0.1 (every exchange checked against the API
// description) and opens a tab on it; the test has timeout to finish.
func openTab(t *testing.T, h http.Handler, timeout time.Duration) *tab {
	t.Helper()
	shared.once.Do(startBrowser)
	if shared.ctx == nil {
		t.Skip("skipping the dashboard's browser tests: " + shared.reason)
	}
	srv := apitest.Server(t, h)
	tabCtx, closeTab := chromedp.NewContext(shared.ctx)
	t.Cleanup(closeTab)
	if err := chromedp.Do(tabCtx); err != nil { // opens the tab
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tabCtx, timeout)
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx, base: srv.URL, documents: map[string]network.Headers{}}
	b.record(tabCtx)
	origin := srv.URL
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: "granted", Origin: origin,
		}); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// record subscribes to the tab's requests, document responses, log
// entries and exceptions, then turns those domains on.
func (b *tab) record(ctx context.Context) {
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	responses := chromedp.Events(ctx, network.ResponseReceived)
	entries := chromedp.Events(ctx, cdplog.EntryAdded)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.requested = append(b.requested, ev.Request.URL)
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range responses {
			if err != nil {
				return
			}
			if ev.Type == network.ResourceTypeDocument {
				b.mu.Lock()
				b.documents[ev.Response.URL] = ev.Response.Headers
				b.mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range entries {
			if err != nil {
				return
			}
			// A refused request is the API answering 4xx, which the page
			// shows; anything else at error level (a CSP violation, a
			// script error) is a defect.
			if ev.Entry.Level == cdplog.EntryLevelError && ev.Entry.Source != cdplog.EntrySourceNetwork {
				b.mu.Lock()
				b.problems = append(b.problems, string(ev.Entry.Source)+": "+ev.Entry.Text)
				b.mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text+" "+describeException(ev.ExceptionDetails))
			b.mu.Unlock()
		}
	}()
	for _, err := range []error{
		call(ctx, network.Enable, network.EnableParams{}),
		call(ctx, cdplog.Enable, cdp.Empty{}),
		call(ctx, runtime.Enable, cdp.Empty{}),
	} {
		if err != nil {
			b.t.Fatal(err)
		}
	}
}

func call[P, R any](ctx context.Context, cmd cdp.Command[P, R], p P) error {
	_, err := chromedp.Call(ctx, cmd, p)
	return err
}

func describeException(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

// do runs steps in the tab, failing the test at the first error.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%v\nthe page says: %s", err, b.visibleMessages())
	}
}

// open loads the dashboard.
func (b *tab) open() {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+dashboard.Path), chromedp.WaitVisible(chromedp.ID("sign-in")))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitFor waits until a JavaScript condition holds.
func (b *tab) waitFor(cond string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s: %v\nthe page says: %s", cond, err, b.visibleMessages())
	}
}

// text is the rendered text of the first element matching a CSS selector.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *tab) value(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

// visibleMessages is what the page's notice and error boxes show, for
// failure messages.
func (b *tab) visibleMessages() string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll('.notice, .error')].filter(e => !e.hidden).map(e => e.innerText).join(' | ')`))
	return s
}

// screenshot saves the viewport as .local/screenshots/<name>.png.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatal(err)
	}
	root, err := repo.Root()
	if err != nil {
		b.t.Fatal(err)
	}
	dir := filepath.Join(root, ".local", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// signIn signs in with a key pair and waits for the keys to show.
func (b *tab) signIn(appKey, appSecret string) {
	b.t.Helper()
	b.do(
		chromedp.SetValue(chromedp.ID("app-key"), appKey),
		chromedp.SetValue(chromedp.ID("app-secret"), appSecret),
		chromedp.Click(chromedp.ID("sign-in-button")),
		chromedp.WaitVisible(chromedp.ID("keys-screen")),
	)
	b.waitFor(`document.querySelectorAll('#keys tbody tr').length > 0`)
}

// row is a key as the page lists it.
type row struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Cells []string `json:"cells"` // each cell's text
}

const rowsJS = `[...document.querySelectorAll('#keys tbody tr')].map(tr => ({
	id: tr.dataset.keyId,
	name: tr.querySelector('.name').textContent,
	cells: [...tr.cells].map(td => td.innerText.trim()),
}))`

// Cell indexes of a key row.
const (
	cellName = iota
	cellType
	cellStatus
	cellScopes
	cellCreated
	cellExpires
	cellLastUsed
	cellLastFour
)

func (b *tab) rows() []row {
	b.t.Helper()
	return eval[[]row](b, rowsJS)
}

// events are the audit events the page lists: each row's action and key.
func (b *tab) events() [][2]string {
	b.t.Helper()
	return eval[[][2]string](b, `[...document.querySelectorAll('#audit tbody tr')].map(tr =>
		[tr.cells[1].innerText.trim(), (tr.cells[2].querySelector('.id') || {}).textContent || ''])`)
}

// holds reports whether the page holds s anywhere: in its markup, its
// text, or the value of any field.
func (b *tab) holds(s string) bool {
	b.t.Helper()
	q, _ := json.Marshal(s)
	return eval[bool](b, `(s => document.documentElement.outerHTML.includes(s) || document.body.innerText.includes(s) ||
		[...document.querySelectorAll('input')].some(i => i.value.includes(s)))(`+string(q)+`)`)
}

// assertClean fails unless the page made requests, every one of them to
// 127.0.0.1, and nothing went wrong in the console.
func (b *tab) assertClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requested) == 0 {
		b.t.Fatal("no request recorded: the check would prove nothing")
	}
	for _, u := range b.requested {
		p, err := url.Parse(u)
		if err == nil && p.Scheme == "data" {
			continue // inline data, such as the browser's own icon of a date field: no request at all
		}
		if err != nil || p.Scheme != "http" || p.Hostname() != "127.0.0.1" {
			b.t.Errorf("the page requested %s, which is not on loopback", u)
		}
	}
	for _, p := range b.problems {
		b.t.Errorf("the console reported %s", p)
	}
}

// documentHeader is a response header of the page as the browser got it.
func (b *tab) documentHeader(name string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, h := range b.documents {
		for k, v := range h {
			if strings.EqualFold(k, name) {
				s, _ := v.(string)
				return s
			}
		}
	}
	return ""
}
