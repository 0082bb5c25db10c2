package dashboard_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/dashboard"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/oauthapi"
)

// byID selects an element by its id attribute.
func byID(id string) chromedp.ID { return chromedp.ID(id) }

// keyButton selects a button of a key's row ("Audit", "Roll", "Delete").
func keyButton(id, label string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`tr[data-key-id=%q] button[aria-label^=%q]`, id, label+" "))
}

// setStatusFilter picks the listing's status filter as a person would.
func (b *tab) setStatusFilter(v string) {
	b.t.Helper()
	eval[chromedp.Void](b, `(s => { s.value = '`+v+`'; s.dispatchEvent(new Event('change')); })(document.getElementById('status-filter'))`)
}

func wantContains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not say %q", what, got, w)
		}
	}
}

// A merchant signs in, creates a key and reads its secret once, sees it
// listed, rolls it, deletes it, reads its audit trail and signs out; a
// wrong secret first gets the API's own words.
func TestBrowserKeyLifecycle(t *testing.T) {
	m := apitest.NewMerchant(t)
	b := openTab(t, apitest.Deps(nil).All(), 45*time.Second)
	// The create form reads the expiry in the browser's time zone.
	if err := call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	b.open()
	for name, want := range map[string]string{
		"Content-Security-Policy": dashboard.ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := b.documentHeader(name); got != want {
			t.Errorf("the browser got %s %q, want %q", name, got, want)
		}
	}
	b.screenshot("01-sign-in")

	// A wrong secret: the API's answer, in its words.
	wrong := m.AppSecret[:len(m.AppSecret)-1] + map[bool]string{true: "A", false: "B"}[!strings.HasSuffix(m.AppSecret, "A")]
	b.do(
		chromedp.SetValue(byID("app-key"), m.AppKey),
		chromedp.SetValue(byID("app-secret"), wrong),
		chromedp.Click(byID("sign-in-button")),
		chromedp.WaitVisible(byID("error")),
	)
	wantContains(t, "refused sign-in", b.text("#error"), oauthapi.MsgInvalidCredentials, "HTTP 400", "request id")
	if b.value("#app-secret") != "" {
		t.Error("the refused AppSecret stays in its field")
	}
	b.screenshot("02-sign-in-refused")

	b.signIn(m.AppKey, m.AppSecret)
	if got := b.text("#session-mid"); got != m.MID {
		t.Errorf("signed in as %q, want %s", got, m.MID)
	}
	b.waitFor(`document.getElementById('error').hidden`)
	// The session is in the page's memory only.
	if n := eval[int](b, `localStorage.length + sessionStorage.length`); n != 0 {
		t.Errorf("%d items in web storage", n)
	}
	if c := eval[string](b, `document.cookie`); c != "" {
		t.Errorf("cookies: %q", c)
	}
	if u := eval[string](b, `location.href`); u != b.base+dashboard.Path {
		t.Errorf("the URL became %s", u)
	}
	for what, s := range map[string]string{"the AppSecret": m.AppSecret, "a JWT": "eyJ"} {
		if b.holds(s) {
			t.Errorf("the page holds %s", what)
		}
	}
	rows := b.rows()
	if len(rows) != 2 || !slices.Contains([]string{rows[0].ID, rows[1].ID}, m.SecretKeyID) || !slices.Contains([]string{rows[0].ID, rows[1].ID}, m.PublicKeyID) {
		t.Fatalf("listed %v, want the onboarded pair", rows)
	}
	b.waitFor(`document.querySelectorAll('#audit tbody tr').length === 1`)
	if ev := b.events(); ev[0][0] != "merchant.onboarded" {
		t.Errorf("the trail is %v", ev)
	}
	b.screenshot("03-keys")

	// Create: the scopes offered are the session's; the value is shown once.
	name := `Billing & "ops" 'team'` // shown as text, not markup
	b.do(chromedp.Click(byID("new-key")), chromedp.WaitVisible(byID("create-dialog")))
	if offered := eval[[]string](b, `[...document.querySelectorAll('#create-scope-list input')].map(i => i.value)`); !slices.Equal(offered, m.Scopes) {
		t.Errorf("offered scopes %v, want the session's %v", offered, m.Scopes)
	}
	b.do(
		chromedp.SetValue(byID("create-name"), name),
		chromedp.Click(chromedp.CSS(`#create-scope-list input[value="charges:read"]`)),
		chromedp.Click(chromedp.CSS(`#create-scope-list input[value="customers:read"]`)),
		chromedp.SetValue(byID("create-expires"), "2031-01-02T03:04"),
	)
	b.screenshot("04-create")
	b.do(chromedp.Click(byID("create-submit")), chromedp.WaitVisible(byID("secret-dialog")))
	value := b.value("#secret-value")
	if !strings.HasPrefix(value, "sk_test_") {
		t.Fatalf("shown value %q", value)
	}
	wantContains(t, "the reveal", b.text("#secret-dialog"), "Key “"+name+"” created", "It will not be shown again")
	b.do(chromedp.Click(byID("secret-copy")))
	b.waitFor(`document.getElementById('secret-copied').textContent !== ''`)
	if got := b.text("#secret-copied"); got != "Copied to the clipboard." {
		t.Errorf("copy: %q", got)
	}
	if got := eval[string](b, `navigator.clipboard.readText()`); got != value {
		t.Error("the clipboard does not hold the value shown")
	}
	b.screenshot("05-secret-shown-once")
	b.do(chromedp.Click(byID("secret-done")), chromedp.WaitNotVisible(byID("secret-dialog")))
	b.waitFor(`document.querySelectorAll('#keys tbody tr').length === 3`)
	if b.holds(value) {
		t.Error("the value stays in the page after the reveal closed")
	}
	created := b.rows()[0] // newest first
	scopes := eval[[]string](b, `[...document.querySelectorAll('#keys tbody tr:first-child .scope')].map(c => c.textContent)`)
	expires := eval[string](b, `document.querySelector('#keys tbody tr:first-child td:nth-child(6) time').getAttribute('datetime')`)
	switch {
	case created.Name != name:
		t.Errorf("listed name %q, want %q as text", created.Name, name)
	case created.Cells[cellType] != "secret" || created.Cells[cellStatus] != "active":
		t.Errorf("listed %v", created.Cells)
	case !slices.Equal(scopes, []string{"charges:read", "customers:read"}) && !slices.Equal(scopes, []string{"customers:read", "charges:read"}):
		t.Errorf("listed scopes %v", scopes)
	case expires != "2031-01-02T02:04:00Z": // 03:04 in Paris, in UTC
		t.Errorf("expires_at %q", expires)
	case created.Cells[cellLastUsed] != "never" || created.Cells[cellLastFour] != "…"+value[len(value)-4:]:
		t.Errorf("listed %v", created.Cells)
	}
	id := created.ID

	// Roll, after a confirmation that names the key, with a grace period.
	b.do(chromedp.Click(keyButton(id, "Roll")), chromedp.WaitVisible(byID("confirm-dialog")))
	wantContains(t, "roll confirmation", b.text("#confirm-dialog"), "Roll “"+name+"”?", id, "…"+value[len(value)-4:])
	b.do(chromedp.SetValue(byID("grace-seconds"), ""), chromedp.SendKeys(byID("grace-seconds"), "3600"))
	wantContains(t, "grace", b.text("#grace-text"), "keeps working for 3600 s")
	b.screenshot("06-roll-confirm")
	b.do(chromedp.Click(byID("confirm-submit")), chromedp.WaitVisible(byID("secret-dialog")))
	rolled := b.value("#secret-value")
	if !strings.HasPrefix(rolled, "sk_test_") || rolled == value {
		t.Fatalf("rolled value %q", rolled)
	}
	wantContains(t, "the reveal", b.text("#secret-dialog"), "Key “"+name+"” rolled", "It will not be shown again", "The old value works until")
	b.do(chromedp.Click(byID("secret-done")), chromedp.WaitNotVisible(byID("secret-dialog")))
	b.waitFor(fmt.Sprintf(`(document.querySelector('tr[data-key-id=%q]') || {innerText: ''}).innerText.includes(%q)`, id, "…"+rolled[len(rolled)-4:]))
	wantContains(t, "rolled row", b.rows()[0].Cells[cellStatus], "active", "rolled")

	// Delete, after a confirmation that names the key.
	b.do(chromedp.Click(keyButton(id, "Delete")), chromedp.WaitVisible(byID("confirm-dialog")))
	wantContains(t, "delete confirmation", b.text("#confirm-dialog"), "Delete “"+name+"”?", id, "cannot be undone")
	b.screenshot("07-delete-confirm")
	b.do(chromedp.Click(byID("confirm-submit")), chromedp.WaitNotVisible(byID("confirm-dialog")))
	b.waitFor(`document.querySelectorAll('#keys tbody tr').length === 2`)
	if got := b.text("#notice"); got != "Key “"+name+"” deleted. API key deleted successfully." {
		t.Errorf("notice %q", got)
	}
	b.setStatusFilter("all")
	b.waitFor(`document.querySelectorAll('#keys tbody tr').length === 3`)
	wantContains(t, "deleted row", b.rows()[0].Cells[cellStatus], "revoked", "deleted")

	// The key's trail, newest first, then the merchant's.
	b.do(chromedp.Click(keyButton(id, "Audit")))
	b.waitFor(`document.getElementById('audit-title').textContent.startsWith('Audit trail of')`)
	b.waitFor(`document.querySelectorAll('#audit tbody tr').length === 3`)
	if got, want := b.events(), [][2]string{{"key.deleted", id}, {"key.rolled", id}, {"key.created", id}}; !slices.Equal(got, want) {
		t.Errorf("the key's trail %v, want %v", got, want)
	}
	wantContains(t, "the key's trail", b.text("#audit"), "name: "+name, "grace_seconds: 3600", m.SecretKeyID)
	b.screenshot("08-audit-of-key")
	b.do(chromedp.Click(byID("audit-all")))
	b.waitFor(`document.querySelectorAll('#audit tbody tr').length === 4`)
	if got := b.events(); got[3][0] != "merchant.onboarded" {
		t.Errorf("the merchant's trail %v", got)
	}

	// Sign out: the page forgets the session and what it showed.
	b.do(chromedp.Click(byID("sign-out")), chromedp.WaitVisible(byID("sign-in")))
	if got := b.text("#notice"); got != "You signed out." {
		t.Errorf("notice %q", got)
	}
	for _, s := range []string{id, m.MID, m.SecretKeyID} {
		if b.holds(s) {
			t.Errorf("the page still shows %s after signing out", s)
		}
	}
	b.screenshot("09-signed-out")
	b.assertClean()

	// Trusted Types: the page cannot turn a string into HTML at all.
	probe := `(() => { try { document.body.insertAdjacentHTML('beforeend', '<b>x</b>'); return 'inserted'; } catch (e) { return e.name; } })()`
	if got := eval[string](b, probe); got != "TypeError" {
		t.Errorf("inserting HTML from a string: %s, want a TypeError from the CSP's Trusted Types", got)
	}
}

// What the API refuses is shown in its words, where the person acted: a
// create with every problem listed, scopes the session cannot grant, a key
// it may not manage, a grace out of range, a session that may not read.
func TestBrowserShowsTheAPIsErrors(t *testing.T) {
	m := apitest.NewMerchant(t)
	h := apitest.Deps(nil).All()
	tok := apitest.TokenOn(t, h, m)
	secret := func(name string, scopes ...string) string {
		body := fmt.Sprintf(`{"mid":%q,"name":%q,"type":"secret","scopes":%s}`, m.MID, name, apitest.JSON(scopes))
		return apitest.Str(apitest.MustCreateKey(t, h, tok, body), "value")
	}
	manager := secret("Key manager", "api-keys:read", "api-keys:write", "charges:read")
	outsider := secret("Charges only", "charges:read")

	b := openTab(t, h, 40*time.Second)
	b.open()
	b.signIn(m.AppKey, manager)
	createError := "#create-form .error"
	b.do(
		chromedp.Click(byID("new-key")), chromedp.WaitVisible(byID("create-dialog")),
		chromedp.SetValue(byID("create-expires"), "2001-01-01T00:00"),
		chromedp.Click(byID("create-submit")), chromedp.WaitVisible(chromedp.CSS(createError)),
	)
	wantContains(t, "create refused", b.text(createError), apikey.MsgMissingName, apikey.MsgInvalidExpiresAt, "HTTP 400")
	b.screenshot("10-create-refused")
	b.do(
		chromedp.Click(chromedp.CSS(`input[name=type][value=tokenization]`)),
		chromedp.SetValue(byID("create-name"), "Tokens"),
		chromedp.SetValue(byID("create-expires"), ""),
		chromedp.Click(byID("create-submit")),
	)
	b.waitFor(`document.querySelector('#create-form .error').innerText.includes('HTTP 403')`)
	wantContains(t, "create refused", b.text(createError), "Cannot grant scopes the caller does not hold: tokenize.")
	b.do(chromedp.Click(chromedp.CSS("#create-form .cancel")), chromedp.WaitNotVisible(byID("create-dialog")))

	confirmError := "#confirm-form .error"
	b.do(
		chromedp.Click(keyButton(m.SecretKeyID, "Roll")), chromedp.WaitVisible(byID("confirm-dialog")),
		chromedp.Click(byID("confirm-submit")), chromedp.WaitVisible(chromedp.CSS(confirmError)),
	)
	wantContains(t, "roll refused", b.text(confirmError), httpapi.MsgForbiddenScope, "HTTP 403")
	b.do(chromedp.Click(chromedp.CSS("#confirm-form .cancel")), chromedp.WaitNotVisible(byID("confirm-dialog")))
	self := eval[string](b, `document.querySelector('tr .badge.self').closest('tr').dataset.keyId`)
	b.do(
		chromedp.Click(keyButton(self, "Roll")), chromedp.WaitVisible(byID("confirm-dialog")),
		chromedp.SetValue(byID("grace-seconds"), "90000"),
		chromedp.Click(byID("confirm-submit")), chromedp.WaitVisible(chromedp.CSS(confirmError)),
	)
	wantContains(t, "roll refused", b.text(confirmError), apikey.MsgInvalidGrace, "HTTP 400")
	b.do(chromedp.Click(chromedp.CSS("#confirm-form .cancel")))

	// A session without api-keys:read is told so, and cannot create.
	b.do(chromedp.Click(byID("sign-out")), chromedp.WaitVisible(byID("sign-in")))
	b.do(
		chromedp.SetValue(byID("app-key"), m.AppKey),
		chromedp.SetValue(byID("app-secret"), outsider),
		chromedp.Click(byID("sign-in-button")),
		chromedp.WaitVisible(byID("keys-screen")),
		chromedp.WaitVisible(byID("error")),
	)
	wantContains(t, "listing refused", b.text("#error"), httpapi.MsgForbiddenScope, "HTTP 403")
	if !eval[bool](b, `document.getElementById('new-key').disabled`) {
		t.Error("New key is offered to a session without api-keys:write")
	}
	b.assertClean()
}

// A session ends by itself when its token expires, and when the API stops
// accepting it (here: its own key deleted from the page).
func TestBrowserSessionEnds(t *testing.T) {
	t.Run("token expires", func(t *testing.T) {
		// The stack's clock runs 592 s behind, so its 600 s tokens expire 8 s
		// after the page gets one.
		behind := apitest.Deps(func() time.Time { return time.Now().Add(-592 * time.Second) })
		m := apitest.NewMerchant(t)
		b := openTab(t, behind.All(), 30*time.Second)
		b.open()
		b.signIn(m.AppKey, m.AppSecret)
		b.waitFor(`!document.getElementById('sign-in-screen').hidden`)
		if got := b.text("#notice"); got != "Your session expired. Sign in again." {
			t.Errorf("notice %q", got)
		}
		if n := len(b.rows()); n != 0 {
			t.Errorf("%d keys still listed", n)
		}
		b.assertClean()
	})
	t.Run("the API refuses the token", func(t *testing.T) {
		d := apitest.Deps(nil)
		d.StatusTTL = time.Millisecond // a deleted key's tokens stop at once
		h := d.All()
		m := apitest.NewMerchant(t)
		tok := apitest.TokenOn(t, h, m)
		second := apitest.MustCreateKey(t, h, tok, `{"mid":"`+m.MID+`","name":"Second manager","type":"secret"}`)
		b := openTab(t, h, 30*time.Second)
		b.open()
		b.signIn(m.AppKey, apitest.Str(second, "value"))
		id := apitest.Str(second, "id")
		b.do(chromedp.Click(keyButton(id, "Delete")), chromedp.WaitVisible(byID("confirm-self")))
		wantContains(t, "delete confirmation", b.text("#confirm-self"), "This session was signed in with this key")
		b.do(chromedp.Click(byID("confirm-submit")), chromedp.WaitVisible(byID("sign-in")))
		wantContains(t, "notice", b.text("#notice"), "“Second manager” deleted", "no longer accepts this session's token", "Sign in again.")
		wantContains(t, "error", b.text("#error"), httpapi.MsgInvalidToken, "HTTP 401")
		b.screenshot("11-session-ended")
		b.assertClean()
	})
}

// Keys and events come a page at a time, newest first.
func TestBrowserPaging(t *testing.T) {
	m := apitest.NewMerchant(t)
	h := apitest.Deps(nil).All()
	tok := apitest.TokenOn(t, h, m)
	const extra = 26
	for i := range extra {
		apitest.MustCreateKey(t, h, tok, fmt.Sprintf(`{"mid":%q,"name":"Key %02d","type":"public"}`, m.MID, i+1))
	}
	b := openTab(t, h, 40*time.Second)
	b.open()
	b.signIn(m.AppKey, m.AppSecret)
	b.waitFor(`document.querySelectorAll('#keys tbody tr').length === 25 && !document.getElementById('keys-more').hidden`)
	b.waitFor(`document.querySelectorAll('#audit tbody tr').length === 25 && !document.getElementById('audit-more').hidden`)
	b.do(chromedp.Click(byID("keys-more")))
	b.waitFor(fmt.Sprintf(`document.querySelectorAll('#keys tbody tr').length === %d`, extra+2))
	b.do(chromedp.Click(byID("audit-more")))
	b.waitFor(fmt.Sprintf(`document.querySelectorAll('#audit tbody tr').length === %d`, extra+1))
	rows := b.rows()
	if rows[0].Name != fmt.Sprintf("Key %02d", extra) || rows[extra-1].Name != "Key 01" {
		t.Errorf("not newest first: %q ... %q", rows[0].Name, rows[extra-1].Name)
	}
	if !slices.IsSortedFunc(rows, func(a, b row) int { return strings.Compare(b.ID, a.ID) }) {
		t.Error("key ids (ULIDs, by creation time) are not in descending order")
	}
	if eval[bool](b, `!document.getElementById('keys-more').hidden || !document.getElementById('audit-more').hidden`) {
		t.Error("More is still offered after the last page")
	}
	b.assertClean()
}
