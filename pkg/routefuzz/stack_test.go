package routefuzz

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apikeyapi"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/oauthapi"
	"github.com/flexfactor/credplane/pkg/scope"
	"github.com/flexfactor/credplane/pkg/token"
	"github.com/flexfactor/credplane/pkg/token/tokentest"
)

// now is the stack's clock: fixed, so that an answer cannot depend on
// when it was asked.
var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// The stack's merchant, its key pair, one of its refresh tokens and one
// more key, all fixed so that committed seeds can name them.
const (
	mid      = "mid_123456"
	publicID = "key_01JDBQ0000000000000000PB01"
	secretID = "key_01JDBQ0000000000000000SC01"
	otherID  = "key_01JDBQ0000000000000000KY01"
	issuer   = "https://api-sandbox.local.test"
)

var (
	appKey    = withChecksum("pk_test_" + strings.Repeat("P", 30))
	appSecret = withChecksum("sk_test_" + strings.Repeat("S", 30))
	refresh   = "rt_" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{'r'}, 32))
)

// withChecksum appends the 6-character base62 CRC32 that makes a key value
// well-formed (as apikey.NewValue does).
func withChecksum(body string) string {
	const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	v := crc32.ChecksumIEEE([]byte(body))
	var sum [6]byte
	for i := 5; i >= 0; i-- {
		sum[i], v = base62[v%62], v/62
	}
	return body + string(sum[:])
}

// keyStore is a stateless apikey.Store: every write succeeds and changes
// nothing, so a request sent twice finds the same state twice.
type keyStore struct{ key apikey.StoredKey }

func (s *keyStore) CreateKey(context.Context, apikey.NewKey) error { return nil }
func (s *keyStore) GetKey(_ context.Context, id string) (apikey.StoredKey, error) {
	if id != s.key.Key.ID {
		return apikey.StoredKey{}, apikey.ErrNotFound
	}
	return s.key, nil
}
func (s *keyStore) ListKeys(_ context.Context, q apikey.KeyQuery) ([]apikey.Key, bool, error) {
	if q.MID != s.key.Key.MID || q.After != "" {
		return nil, false, nil
	}
	return []apikey.Key{s.key.Key}, false, nil
}
func (s *keyStore) RevokeKey(context.Context, apikey.Revocation) error { return nil }
func (s *keyStore) RollKey(context.Context, apikey.Rollover) error     { return nil }
func (s *keyStore) ClaimIdempotencyKey(context.Context, apikey.IdempotencyClaim) (*apikey.IdempotencyRecord, error) {
	return nil, nil
}
func (s *keyStore) TakeOverIdempotencyKey(context.Context, apikey.IdempotencyClaim, string) error {
	return nil
}
func (s *keyStore) ReleaseIdempotencyKey(context.Context, apikey.IdempotencyClaim) error { return nil }
func (s *keyStore) OnboardingClaim(context.Context, string) (string, error)              { return "", nil }
func (s *keyStore) Onboard(context.Context, apikey.Onboarding) error                     { return nil }
func (s *keyStore) KeyIDByDigest(context.Context, apikey.Digest) (string, error) {
	return "", apikey.ErrNotFound
}
func (s *keyStore) EndGrace(context.Context, apikey.GraceEnd) error { return nil }

// sealer "seals" by keeping the plaintext as the ciphertext.
type sealer struct{}

func (sealer) Seal(_ context.Context, plain []byte, _ map[string]string) (apikey.Sealed, error) {
	return apikey.Sealed{EncryptedKey: []byte("k"), Nonce: []byte("n"), Ciphertext: plain}, nil
}
func (sealer) Open(_ context.Context, s apikey.Sealed, _ map[string]string) ([]byte, error) {
	return s.Ciphertext, nil
}

// authStore is a stateless auth.Store that knows the merchant's pair and
// one refresh token of it.
type authStore struct {
	creds   map[apikey.Digest]auth.Credential
	refresh map[[sha256.Size]byte]auth.RefreshRecord
	states  map[string]auth.KeyState
}

func (s *authStore) LookupCredentials(_ context.Context, a, b apikey.Digest) (*auth.Credential, *auth.Credential, error) {
	return s.cred(a), s.cred(b), nil
}
func (s *authStore) cred(d apikey.Digest) *auth.Credential {
	c, ok := s.creds[d]
	if !ok {
		return nil
	}
	return &c
}
func (s *authStore) RecordExchange(context.Context, auth.RefreshRecord, int) error { return nil }
func (s *authStore) WithdrawIssue(context.Context, auth.RefreshRecord, *[sha256.Size]byte) error {
	return nil
}
func (s *authStore) KeyStates(_ context.Context, ids ...string) (map[string]auth.KeyState, error) {
	out := map[string]auth.KeyState{}
	for _, id := range ids {
		if st, ok := s.states[id]; ok {
			out[id] = st
		}
	}
	return out, nil
}
func (s *authStore) LookupRefresh(_ context.Context, d [sha256.Size]byte) (*auth.RefreshRecord, error) {
	r, ok := s.refresh[d]
	if !ok {
		return nil, nil
	}
	return &r, nil
}
func (s *authStore) RotateRefresh(context.Context, [sha256.Size]byte, auth.RefreshRecord, int) error {
	return nil
}
func (s *authStore) RevokeFamily(context.Context, auth.RefreshRecord, time.Time, time.Time, *audit.Event) error {
	return nil
}

// stack is every route on the in-memory stores, and a bearer token of the
// merchant's secret key holding every scope.
type stack struct {
	h      http.Handler
	bearer string
}

func newStack(tb testing.TB) *stack {
	tb.Helper()
	for _, v := range []string{appKey, appSecret} {
		if _, err := apikey.ParseValue(v, apikey.Sandbox); err != nil {
			tb.Fatalf("%s…: %v", v[:8], err)
		}
	}
	clock := func() time.Time { return now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	signer := tokentest.NewSigner(tb)
	verifier := &token.Verifier{Issuer: issuer, Audience: issuer + "/v1", Keys: signer.Keys, Now: clock}
	tokens := &token.Issuer{Signer: signer, Issuer: issuer, Audience: issuer + "/v1", Now: clock}
	all := scope.All()
	keys := &apikey.Service{
		Store: &keyStore{key: apikey.StoredKey{
			Key:    apikey.Key{ID: otherID, MID: mid, Name: "other", Type: apikey.Secret, Scopes: []string{"charges:read"}, CreatedAt: now.Add(-time.Hour), LastFour: "abcd", Generation: 1},
			Digest: apikey.DigestOf("other"),
		}},
		Sealer: sealer{}, Stage: apikey.Sandbox, CursorKey: bytes.Repeat([]byte("c"), apikey.MinCursorKeyLen), Now: clock,
	}
	state := auth.KeyState{MID: mid, Generation: 1}
	store := &authStore{
		creds: map[apikey.Digest]auth.Credential{
			apikey.DigestOf(appKey):    {Digest: apikey.DigestOf(appKey), KeyID: publicID, MID: mid, Type: apikey.Public, Scopes: []string{}, Generation: 1},
			apikey.DigestOf(appSecret): {Digest: apikey.DigestOf(appSecret), KeyID: secretID, MID: mid, Type: apikey.Secret, Scopes: all, Generation: 1},
		},
		refresh: map[[sha256.Size]byte]auth.RefreshRecord{sha256.Sum256([]byte(refresh)): {
			Digest: sha256.Sum256([]byte(refresh)), FamilyID: "fam", SecretKeyID: secretID, PublicKeyID: publicID,
			SecretGen: 1, PublicGen: 1, MID: mid, Scope: strings.Join(all, " "),
			AuthTime: now.Add(-time.Hour), IssuedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour),
		}},
		states: map[string]auth.KeyState{publicID: state, secretID: state, otherID: state},
	}
	tok, err := tokens.Issue(context.Background(), token.Subject{SecretKeyID: secretID, PublicKeyID: publicID, SecretGen: 1, PublicGen: 1, MID: mid, Scopes: strings.Join(all, " ")})
	if err != nil {
		tb.Fatal(err)
	}
	bearer := &httpapi.Bearer{Verifier: verifier, Status: &auth.StatusCache{Source: store, Now: clock}, Log: log}
	h := httpapi.Handler(log, nil,
		&apikeyapi.Handler{Keys: keys, Bearer: bearer, Log: log, Now: clock},
		&oauthapi.Handler{Auth: &auth.Service{Store: store, Issuer: tokens, Stage: apikey.Sandbox, Now: clock}, KeySet: verifier.KeySet, Realm: issuer, Log: log},
	)
	return &stack{h: h, bearer: tok.Token}
}

// request is one request of a fuzz input. Path and query are set on the
// URL as they are, so any bytes reach the handler.
type request struct {
	method, path, query string
	header              map[string]string
	body                []byte
}

func (s *stack) serve(r request) *httptest.ResponseRecorder {
	req := httptest.NewRequest(r.method, "/", bytes.NewReader(r.body))
	req.URL.Path, req.URL.RawQuery = r.path, r.query
	for k, v := range r.header {
		req.Header[k] = []string{v}
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// check sends r twice and holds the answers to the properties every answer
// has: not a 5xx, a JSON object with an errors array, and the same answer
// both times (a refusal byte for byte; a success with the same members and
// errors, its ids, values and tokens being fresh each time).
func (s *stack) check(t *testing.T, r request) {
	t.Helper()
	first, second := s.serve(r), s.serve(r)
	a, b := decode(t, first), decode(t, second)
	if first.Code >= 500 {
		t.Fatalf("%s %s?%s %q: %d %s", r.method, r.path, r.query, r.body, first.Code, first.Body)
	}
	if first.Code != second.Code {
		t.Fatalf("%s %s?%s %q: %d, then %d", r.method, r.path, r.query, r.body, first.Code, second.Code)
	}
	if first.Code >= 300 {
		if first.Body.String() != second.Body.String() {
			t.Fatalf("%s %s?%s %q: two answers:\n%s%s", r.method, r.path, r.query, r.body, first.Body, second.Body)
		}
		return
	}
	if !slices.Equal(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b))) || string(a["errors"]) != string(b["errors"]) {
		t.Fatalf("%s %s?%s %q: two answers:\n%s%s", r.method, r.path, r.query, r.body, first.Body, second.Body)
	}
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]json.RawMessage {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &obj); err != nil || obj == nil {
		t.Fatalf("%d: not a JSON object: %q", rec.Code, rec.Body)
	}
	var errs []string
	if json.Unmarshal(obj["errors"], &errs) != nil || errs == nil {
		t.Fatalf("%d: no errors array: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%d: Content-Type %q", rec.Code, ct)
	}
	return obj
}
