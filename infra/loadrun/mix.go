package loadrun

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Routes, as the report names them, with their share of the traffic (in
// percent) and the statuses a right answer has.
var routes = []struct {
	name   string
	weight int
	want   []uint16
}{
	{"token: pair, JSON", 10, []uint16{200}},
	{"token: pair, form", 5, []uint16{200}},
	{"token: refresh, JSON", 9, []uint16{200}},
	{"token: refresh, form", 4, []uint16{200}},
	{"revoke", 3, []uint16{200}},
	{"jwks", 3, []uint16{200}},
	{"create", 12, []uint16{201}},
	{"create idempotent", 6, []uint16{201, 409}},
	{"create idempotent retry", 6, []uint16{201, 409}},
	{"get", 12, []uint16{200}},
	{"list", 10, []uint16{200}},
	{"roll", 10, []uint16{200}},
	{"delete", 10, []uint16{200}},
}

// Indexes into routes.
const (
	pairJSON = iota
	pairForm
	refreshJSON
	refreshForm
	revoke
	jwks
	create
	createIdem
	createRetry
	get
	list
	roll
	del
)

// maxRefresh bounds the refresh tokens kept per merchant.
const maxRefresh = 256

// merchantState is what the run knows of one merchant: its latest access
// token, unused refresh tokens and the created keys no request is using.
type merchantState struct {
	Merchant
	basic   string
	token   string
	refresh []string
	keys    []string
}

// idemCreate is an idempotent create still to be retried.
type idemCreate struct {
	m         int
	key, body string
	left      int
}

// mix builds each request from what earlier answers returned. A key being
// rolled or deleted, and a refresh token being used, is out of its pool
// until the answer comes, so no two requests race on one of them.
type mix struct {
	base   string
	budget uint64
	sent   atomic.Uint64

	mu    sync.Mutex
	rng   *rand.Rand
	ms    []*merchantState
	idem  []*idemCreate
	count int
	total int
}

func newMix(o Options) *mix {
	m := &mix{base: strings.TrimSuffix(o.Base, "/"), budget: o.MaxRequests, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	for _, mc := range o.Merchants {
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(mc.AppKey)+":"+url.QueryEscape(mc.AppSecret)))
		m.ms = append(m.ms, &merchantState{Merchant: mc, basic: basic})
	}
	for _, r := range routes {
		m.total += r.weight
	}
	return m
}

// next is the vegeta.Targeter: it picks a merchant and a route, falling
// back to a route that needs nothing when the pick lacks what it needs.
func (m *mix) next(t *vegeta.Target) error {
	if m.sent.Add(1) > m.budget {
		return vegeta.ErrNoTargets
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mi := m.rng.IntN(len(m.ms))
	s := m.ms[mi]
	route, extra := m.pick(), ""
	if s.token == "" && route >= create {
		route = pairJSON // management needs an access token first
	}
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {s.basic}}
	bearer := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + s.token}}
	t.Method, t.Header = http.MethodPost, jsonCT
	switch route {
	case refreshJSON, refreshForm, revoke:
		rt, ok := takeLast(&s.refresh)
		if !ok {
			route = pairJSON
			break
		}
		switch route {
		case refreshJSON:
			t.URL, t.Body = "/v1/oauth2/token", []byte(`{"RefreshToken":"`+rt+`"}`)
		case refreshForm:
			t.URL, t.Header, t.Body = "/v1/oauth2/token", form, []byte(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode())
		default:
			t.URL, t.Header, t.Body = "/v1/oauth2/revoke", form, []byte(url.Values{"token": {rt}}.Encode())
		}
	case createRetry:
		if len(m.idem) == 0 {
			route = createIdem
			break
		}
		c := m.idem[0]
		if c.left--; c.left == 0 {
			m.idem = m.idem[1:]
		}
		mi, s = c.m, m.ms[c.m]
		t.URL, t.Body, t.Header = "/v1/api-keys", []byte(c.body), http.Header{
			"Content-Type": {"application/json"}, "Authorization": {"Bearer " + s.token}, "Idempotency-Key": {c.key},
		}
	case roll, del:
		i := m.rng.IntN(len(s.keys) + 1)
		if i == len(s.keys) {
			route = create // no idle key: make one
			break
		}
		extra = s.keys[i]
		s.keys = append(s.keys[:i], s.keys[i+1:]...)
		t.Header = bearer
		if route == roll {
			t.URL, t.Body = "/v1/api-keys/"+extra+"/roll", []byte(`{"grace_seconds":`+strconv.Itoa(m.rng.IntN(2)*60)+`}`)
		} else {
			t.Method, t.URL = http.MethodDelete, "/v1/api-keys/"+extra
		}
	case get:
		if len(s.keys) == 0 {
			route = list
			break
		}
		t.Method, t.URL, t.Header = http.MethodGet, "/v1/api-keys/"+s.keys[m.rng.IntN(len(s.keys))], bearer
	}
	switch route {
	case pairJSON:
		t.URL, t.Header, t.Body = "/v1/oauth2/token", jsonCT, []byte(`{"AppKey":"`+s.AppKey+`","AppSecret":"`+s.AppSecret+`"}`)
	case pairForm:
		t.URL, t.Header, t.Body = "/v1/oauth2/token", form, []byte("grant_type=client_credentials")
	case jwks:
		t.Method, t.URL, t.Header = http.MethodGet, "/v1/oauth2/jwks", nil
	case create:
		body := []string{`"type":"public"`, `"type":"secret","scopes":["charges:read"]`, `"type":"tokenization"`}[m.rng.IntN(3)]
		t.URL, t.Header, t.Body = "/v1/api-keys", bearer, []byte(`{"mid":"`+s.MID+`","name":"load",`+body+`}`)
	case createIdem:
		m.count++
		c := &idemCreate{m: mi, key: fmt.Sprintf("load-%d-%d", m.count, m.rng.Uint64()), left: 2,
			body: `{"mid":"` + s.MID + `","name":"load idem","type":"secret","scopes":["orders:read"]}`}
		m.idem = append(m.idem, c)
		t.URL, t.Body, t.Header = "/v1/api-keys", []byte(c.body), http.Header{
			"Content-Type": {"application/json"}, "Authorization": {"Bearer " + s.token}, "Idempotency-Key": {c.key},
		}
	case list:
		t.Method, t.URL, t.Header = http.MethodGet, "/v1/api-keys?limit=20&mid="+s.MID, bearer
	}
	// The fragment names the route, merchant and key for the answer; a
	// client never sends it.
	t.URL = m.base + t.URL + "#" + strconv.Itoa(route) + "/" + strconv.Itoa(mi) + "/" + extra
	return nil
}

func (m *mix) pick() int {
	n := m.rng.IntN(m.total)
	for i, r := range routes {
		if n < r.weight {
			return i
		}
		n -= r.weight
	}
	return 0
}

func takeLast(pool *[]string) (string, bool) {
	if len(*pool) == 0 {
		return "", false
	}
	v := (*pool)[len(*pool)-1]
	*pool = (*pool)[:len(*pool)-1]
	return v, true
}

// answered keeps what an answer returned (tokens, created keys) and puts
// a rolled key back in its pool; it returns the request's route.
func (m *mix) answered(r *vegeta.Result) int {
	_, frag, _ := strings.Cut(r.URL, "#")
	parts := strings.SplitN(frag, "/", 3)
	if len(parts) != 3 {
		return -1
	}
	route, _ := strconv.Atoi(parts[0])
	mi, _ := strconv.Atoi(parts[1])
	var body struct {
		ID                string `json:"id"`
		AccessToken       string `json:"accessToken"`
		RefreshToken      string `json:"refreshToken"`
		OAuthAccessToken  string `json:"access_token"`
		OAuthRefreshToken string `json:"refresh_token"`
	}
	_ = json.Unmarshal(r.Body, &body)
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.ms[mi]
	if at := body.AccessToken + body.OAuthAccessToken; at != "" {
		s.token = at
	}
	if rt := body.RefreshToken + body.OAuthRefreshToken; rt != "" {
		if s.refresh = append(s.refresh, rt); len(s.refresh) > maxRefresh {
			s.refresh = s.refresh[1:]
		}
	}
	switch {
	case route == create && r.Code == http.StatusCreated:
		s.keys = append(s.keys, body.ID)
	case route == roll:
		s.keys = append(s.keys, parts[2]) // rolled or not, it is still there
	}
	return route
}
