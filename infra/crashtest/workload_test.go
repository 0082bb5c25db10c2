package crashtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// errDown is a request that got no answer: the server died under it, so
// its outcome is unknown.
var errDown = errors.New("no answer")

// key is a key the workload created and may use, roll or delete; value is
// "" once a roll's outcome is unknown.
type key struct {
	id, typ, value string
}

// idemCreate is an idempotent create, every key id its 201s named, how
// often it was sent and how often it got no answer.
type idemCreate struct {
	key, name, body string
	ids             map[string]bool
	sent, lost      int
}

// workload is the client side: what it created and what it must still
// find out after a crash. Keys and refresh tokens are taken out of their
// pools while a request uses them, so no two requests touch one key.
type workload struct {
	m    apitest.Merchant
	http *http.Client

	mu       sync.Mutex
	rng      *rand.Rand
	base     string
	tok      string
	keys     []*key
	refresh  []string
	deletes  []string      // deletes without an answer: retried after the restart
	idem     []*idemCreate // every idempotent create
	statuses map[string]int
	defects  []string // answers no request should get
}

func newWorkload(m apitest.Merchant, seed uint64) *workload {
	return &workload{
		m:        m,
		http:     &http.Client{Timeout: 10 * time.Second},
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		statuses: map[string]int{},
	}
}

func (w *workload) intn(n int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rng.IntN(n)
}

// answer is a response: its status and decoded JSON body.
type answer struct {
	status int
	body   map[string]any
}

func (a answer) str(name string) string { s, _ := a.body[name].(string); return s }

// do sends one request to the current server; errDown when it got no answer.
func (w *workload) do(ctx context.Context, op, method, path string, header map[string]string, body string) (answer, error) {
	w.mu.Lock()
	base := w.base
	w.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := w.http.Do(req)
	if err != nil {
		w.count(op, "no answer")
		return answer{}, errDown
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		w.count(op, "no answer")
		return answer{}, errDown
	}
	a := answer{status: res.StatusCode}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		w.defect("%s: %d, not JSON: %q", op, res.StatusCode, raw)
	}
	w.count(op, fmt.Sprint(res.StatusCode))
	if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
		w.defect("%s: %d %s", op, res.StatusCode, raw)
	}
	return a, nil
}

func (w *workload) count(op, outcome string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.statuses[op+" "+outcome]++
}

func (w *workload) defect(format string, a ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.defects = append(w.defects, fmt.Sprintf(format, a...))
}

// expect records a defect when a request that got an answer got another.
func (w *workload) expect(op string, a answer, err error, want ...int) {
	if err != nil {
		return
	}
	for _, s := range want {
		if a.status == s {
			return
		}
	}
	w.defect("%s: %d %v, want %v", op, a.status, a.body, want)
}

func (w *workload) bearer() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return apitest.Bearer(w.tok)
}

// take removes a random element from a pool; ok is false when it is empty.
func take[T any](w *workload, pool *[]T) (T, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var zero T
	if len(*pool) == 0 {
		return zero, false
	}
	i := w.rng.IntN(len(*pool))
	v := (*pool)[i]
	(*pool)[i] = (*pool)[len(*pool)-1]
	*pool = (*pool)[:len(*pool)-1]
	return v, true
}

func give[T any](w *workload, pool *[]T, v T) {
	w.mu.Lock()
	defer w.mu.Unlock()
	*pool = append(*pool, v)
}

// login exchanges the merchant's first pair (never rolled or deleted) for
// the access token every management request uses.
func (w *workload) login(ctx context.Context) error {
	a, err := w.token(ctx, "exchange", apitest.JSONCT, pair(w.m.AppKey, w.m.AppSecret), 200)
	if err != nil {
		return err
	}
	if a.status != 200 {
		return fmt.Errorf("exchange: %d %v", a.status, a.body)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tok = a.str("accessToken")
	return nil
}

// step sends one request of a random kind; errDown when the server died.
func (w *workload) step(ctx context.Context) error {
	switch n := w.intn(100); {
	case n < 15:
		return w.create(ctx)
	case n < 30:
		return w.createIdempotent(ctx, nil)
	case n < 40:
		return w.roll(ctx)
	case n < 48:
		return w.delete(ctx)
	case n < 63:
		return w.exchangeFirstPair(ctx)
	case n < 70:
		return w.exchangeCreated(ctx)
	case n < 82:
		return w.refreshOne(ctx)
	case n < 87:
		return w.revoke(ctx)
	default:
		return w.read(ctx)
	}
}

func (w *workload) create(ctx context.Context) error {
	typ, body := "public", `"type":"public"`
	if w.intn(2) == 0 {
		typ, body = "secret", `"type":"secret","scopes":["charges:read"]`
	}
	a, err := w.do(ctx, "create", "POST", "/v1/api-keys", w.bearer(), `{"mid":"`+w.m.MID+`","name":"crash",`+body+`}`)
	w.expect("create", a, err, 201)
	if err == nil && a.status == 201 {
		give(w, &w.keys, &key{id: a.str("id"), typ: typ, value: a.str("value")})
	}
	return err
}

// createIdempotent sends a new idempotent create, or c again.
func (w *workload) createIdempotent(ctx context.Context, c *idemCreate) error {
	if c == nil {
		w.mu.Lock()
		n := len(w.idem)
		c = &idemCreate{key: fmt.Sprintf("crash-%d-%d", n, w.rng.Uint64()), name: fmt.Sprintf("idem-%d", n), ids: map[string]bool{}}
		c.body = `{"mid":"` + w.m.MID + `","name":"` + c.name + `","type":"secret","scopes":["orders:read"]}`
		w.idem = append(w.idem, c)
		w.mu.Unlock()
	}
	h := w.bearer()
	h["Idempotency-Key"] = c.key
	a, err := w.do(ctx, "create idempotent", "POST", "/v1/api-keys", h, c.body)
	// 409: the first request is still in flight, or died holding its claim
	// (a retry takes it over once the claim's lock has passed).
	w.expect("create idempotent", a, err, 201, 409)
	w.mu.Lock()
	defer w.mu.Unlock()
	c.sent++
	switch {
	case err != nil:
		c.lost++
	case a.status == 201:
		c.ids[a.str("id")] = true
	}
	return err
}

func (w *workload) roll(ctx context.Context) error {
	k, ok := take(w, &w.keys)
	if !ok {
		return nil
	}
	defer give(w, &w.keys, k)
	grace := []string{"", `{"grace_seconds":0}`, `{"grace_seconds":30}`}[w.intn(3)]
	a, err := w.do(ctx, "roll", "POST", "/v1/api-keys/"+k.id+"/roll", w.bearer(), grace)
	w.expect("roll", a, err, 200)
	switch {
	case err != nil:
		k.value = "" // rolled or not: unknown
	case a.status == 200:
		k.value = a.str("value")
	}
	return err
}

func (w *workload) delete(ctx context.Context) error {
	k, ok := take(w, &w.keys)
	if !ok {
		return nil
	}
	a, err := w.do(ctx, "delete", "DELETE", "/v1/api-keys/"+k.id, w.bearer(), "")
	w.expect("delete", a, err, 200)
	if err != nil {
		give(w, &w.deletes, k.id)
	}
	return err
}

// token posts to the token endpoint and keeps the refresh token of a 200
// (either shape) in the pool.
func (w *workload) token(ctx context.Context, op string, header map[string]string, body string, want ...int) (answer, error) {
	a, err := w.do(ctx, op, "POST", "/v1/oauth2/token", header, body)
	w.expect(op, a, err, want...)
	if err == nil && a.status == 200 {
		give(w, &w.refresh, a.str("refreshToken")+a.str("refresh_token"))
	}
	return a, err
}

// pair is the upstream JSON body of a key pair.
func pair(appKey, appSecret string) string {
	return `{"AppKey":"` + appKey + `","AppSecret":"` + appSecret + `"}`
}

// exchangeFirstPair exchanges the merchant's first pair, in either shape.
func (w *workload) exchangeFirstPair(ctx context.Context) error {
	if w.intn(3) == 0 {
		h := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(w.m.AppKey, w.m.AppSecret))
		_, err := w.token(ctx, "exchange", h, url.Values{"grant_type": {"client_credentials"}}.Encode(), 200)
		return err
	}
	_, err := w.token(ctx, "exchange", apitest.JSONCT, pair(w.m.AppKey, w.m.AppSecret), 200)
	return err
}

// exchangeCreated exchanges a created secret key whose value is known,
// paired with the merchant's public key: it must work.
func (w *workload) exchangeCreated(ctx context.Context) error {
	k, ok := take(w, &w.keys)
	if !ok {
		return nil
	}
	defer give(w, &w.keys, k)
	if k.typ != "secret" || k.value == "" {
		return nil
	}
	_, err := w.token(ctx, "exchange created key", apitest.JSONCT, pair(w.m.AppKey, k.value), 200)
	return err
}

// refreshOne presents a refresh token once. 400 is a right answer too:
// its family may have died with a roll or a delete of its key.
func (w *workload) refreshOne(ctx context.Context) error {
	rt, ok := take(w, &w.refresh)
	if !ok {
		return nil
	}
	_, err := w.token(ctx, "refresh", apitest.JSONCT, `{"RefreshToken":"`+rt+`"}`, 200, 400)
	return err
}

func (w *workload) revoke(ctx context.Context) error {
	rt, ok := take(w, &w.refresh)
	if !ok {
		return nil
	}
	h := apitest.WithHeader(apitest.FormCT, "Authorization", apitest.BasicAuth(w.m.AppKey, w.m.AppSecret))
	a, err := w.do(ctx, "revoke", "POST", "/v1/oauth2/revoke", h, url.Values{"token": {rt}}.Encode())
	w.expect("revoke", a, err, 200)
	return err
}

// read gets one of the keys, or a page of the listing.
func (w *workload) read(ctx context.Context) error {
	path := "/v1/api-keys?limit=20&mid=" + w.m.MID
	w.mu.Lock()
	if len(w.keys) > 0 && w.rng.IntN(2) == 0 {
		path = "/v1/api-keys/" + w.keys[w.rng.IntN(len(w.keys))].id
	}
	w.mu.Unlock()
	a, err := w.do(ctx, "read", "GET", path, w.bearer(), "")
	w.expect("read", a, err, 200)
	return err
}

// recover finishes, on a restarted server, what the crash left unknown:
// deletes are sent again (a repeated delete answers 200 too), and each
// idempotent create without an answer is retried once with its key.
func (w *workload) recover(ctx context.Context) error {
	if err := w.login(ctx); err != nil {
		return err
	}
	for {
		id, ok := take(w, &w.deletes)
		if !ok {
			break
		}
		a, err := w.do(ctx, "delete again", "DELETE", "/v1/api-keys/"+id, w.bearer(), "")
		if err != nil {
			return err
		}
		w.expect("delete again", a, err, 200)
	}
	for _, c := range w.unsettled() {
		if err := w.createIdempotent(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (w *workload) unsettled() []*idemCreate {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*idemCreate
	for _, c := range w.idem {
		if len(c.ids) == 0 {
			out = append(out, c)
		}
	}
	return out
}
