package e2e_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apitest"
	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/dynamostore"
	"github.com/golang-jwt/jwt/v5"
)

// The route benchmarks time a route through the whole stack and, in the
// same loop, the bare SDK calls of its floor (DESIGN.md "Cost of a
// request") twice: one after another (the serial floor, the sum of the
// calls) and as the route's longest chain of calls that depend on each
// other, the independent ones at once (the critical-path floor). Each runs
// in two regimes: on the emulators as they are, and with AWS-like latency
// added to every call (apitest.AWSLatency), where the critical path is
// what a request waits for. The three take turns at going first, so that
// the emulators' warm-up and a shared machine's load weigh on all alike.
// Every figure is a median; the ratios are of medians.

// regimes are the settings every route benchmark runs in.
var regimes = []struct {
	name    string
	latency apitest.Latency
}{
	{"emulators", nil},
	{"aws-latency", apitest.AWSLatency},
}

// benchTokenLimit is a token limit no benchmark reaches: the count is
// still written in every exchange's transaction, as in production.
const benchTokenLimit = 1 << 30

// bench is one regime of a route benchmark: the clients its handler and
// floors call AWS with, and the store, sealer and signing call on them.
type bench struct {
	*testing.B
	clients config.Clients
	store   *dynamostore.Store
	sealer  *awskms.Envelope
	ctx     context.Context
}

// eachRegime runs run as a sub-benchmark per regime.
func eachRegime(b *testing.B, run func(bb *bench)) {
	for _, r := range regimes {
		b.Run(r.name, func(b *testing.B) {
			c := apitest.Env().Clients
			if r.latency != nil {
				c = apitest.WithLatency(c, r.latency)
			}
			cfg := apitest.Env().Config
			run(&bench{B: b, clients: c, ctx: context.Background(),
				store:  &dynamostore.Store{Client: c.DynamoDB, Table: cfg.TableName},
				sealer: &awskms.Envelope{Client: c.KMS, KeyID: cfg.DataKeyID}})
		})
	}
}

// stack is the whole handler stack on the regime's clients.
func (bb *bench) stack() http.Handler {
	d := apitest.Deps(nil)
	d.Clients = bb.clients
	d.Config.TokenRateLimit = benchTokenLimit
	return d.All()
}

// serve returns a call of the route through h that must answer status;
// next, when set, gives each call's headers and body.
func (bb *bench) serve(h http.Handler, method, path string, status int, next func() (map[string]string, string)) func() {
	return func() {
		header, body := next()
		if r := apitest.Serve(h, method, path, header, body); r.Code != status {
			bb.Fatalf("%s %s: %d %s", method, path, r.Code, r.Body)
		}
	}
}

// fixed is a request that is the same every time.
func fixed(header map[string]string, body string) func() (map[string]string, string) {
	return func() (map[string]string, string) { return header, body }
}

// measure runs handler and the floors in turn until the benchmark ends,
// reports the medians and their ratios, and returns the handler's median.
// critical nil means the route has no independent calls: its critical path
// is its serial floor.
func (bb *bench) measure(handler, serial, critical func()) time.Duration {
	fns := []func(){handler, serial, critical}
	if critical == nil {
		fns = fns[:2]
	}
	times := make([][]time.Duration, len(fns))
	for i := 0; bb.Loop(); i++ {
		for j := range fns {
			k := (i + j) % len(fns)
			start := time.Now()
			fns[k]()
			times[k] = append(times[k], time.Since(start))
		}
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	h, s := median(times[0]), median(times[1])
	c := s
	if critical != nil {
		c = median(times[2])
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	bb.ReportMetric(ms(h), "handler-ms")
	bb.ReportMetric(ms(s), "serial-ms")
	bb.ReportMetric(ms(c), "critical-ms")
	bb.ReportMetric(float64(h)/float64(c), "handler/critical")
	bb.ReportMetric(float64(h)/float64(s), "handler/serial")
	bb.ReportMetric(0, "ns/op") // the whole loop's time, floors included: no figure of the route
	return h
}

// both runs f and g at once and returns when both have.
func both(f, g func()) {
	var wg sync.WaitGroup
	wg.Go(f)
	g()
	wg.Wait()
}

// protectedFloor adds to floor what DESIGN.md counts in the floor of every
// protected route: one ES256 verification of the bearer token in memory, by
// the JWT library with the KMS public key (fetched once, as a container does).
func protectedFloor(b *testing.B, tok string, floor func()) func() {
	keys, err := awskms.PublicKeys(apitest.Env().Clients.KMS, apitest.Env().Config.SigningKeyID)(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	pub := keys[apitest.Env().Config.SigningKeyID]
	keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
	return func() {
		if _, err := jwt.Parse(tok, keyFunc, jwt.WithValidMethods([]string{"ES256"})); err != nil {
			b.Fatal(err)
		}
		floor()
	}
}

// dataKey is the one GenerateDataKey a new value costs, for key id of mid.
func (bb *bench) dataKey(mid, id string) []byte {
	dk, err := bb.clients.KMS.GenerateDataKey(bb.ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(apitest.Env().Config.DataKeyID),
		KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: apikey.EncryptionContext(mid, id)})
	if err != nil {
		bb.Fatal(err)
	}
	return dk.CiphertextBlob
}

// newSecret is what a create of a secret key of mid writes, sealed under
// edk (built by the store's own marshalling: items of the same shape and
// size as the route's).
func newSecret(mid, id string, edk []byte, claim *apikey.IdempotencyClaim) apikey.NewKey {
	now := time.Now().UTC()
	value, _ := apikey.NewValue(apikey.Secret, apikey.Sandbox)
	exp := now.Add(apikey.SecretReplayWindow)
	return apikey.NewKey{
		Key:             apikey.Key{ID: id, MID: mid, Name: "bench", Type: apikey.Secret, Scopes: []string{"charges:read"}, CreatedAt: now, LastFour: apikey.LastFour(value), Generation: apikey.FirstGeneration},
		Digest:          apikey.DigestOf(value),
		Sealed:          apikey.Sealed{EncryptedKey: edk, Nonce: make([]byte, 12), Ciphertext: make([]byte, len(value)+16)},
		SealedExpiresAt: &exp,
		Claim:           claim,
	}
}

// The floor of a create: one GenerateDataKey, then the TransactWriteItems
// that needs it.
func BenchmarkCreateKeyVsFloor(b *testing.B) {
	m := apitest.NewMerchant(b)
	tok := apitest.TokenFor(b, m)
	body := `{"mid":"` + m.MID + `","name":"bench","type":"secret","scopes":["charges:read"]}`
	eachRegime(b, func(bb *bench) {
		floor := func() {
			id := apikey.NewID(time.Now())
			if err := bb.store.CreateKey(bb.ctx, newSecret("floor_"+m.MID, id, bb.dataKey(m.MID, id), nil)); err != nil {
				bb.Fatal(err)
			}
		}
		bb.measure(bb.serve(bb.stack(), "POST", "/v1/api-keys", 201, fixed(apitest.Bearer(tok), body)), protectedFloor(b, tok, floor), nil)
	})
}

// The floor of an idempotent create: the claim (PutItem) and the data key,
// then the transaction that writes the key and completes the claim. Only
// the transaction needs both.
func BenchmarkCreateKeyIdempotentVsFloor(b *testing.B) {
	m := apitest.NewMerchant(b)
	tok := apitest.TokenFor(b, m)
	body := `{"mid":"` + m.MID + `","name":"bench","type":"secret","scopes":["charges:read"]}`
	eachRegime(b, func(bb *bench) {
		newClaim := func() apikey.IdempotencyClaim {
			now := time.Now().UTC()
			return apikey.IdempotencyClaim{MID: "floor_" + m.MID, CallerKeyID: m.SecretKeyID, Key: apitest.NewIdempotencyKey(), Fingerprint: sha256.Sum256([]byte(body)),
				Token: rand.Text(), At: now, LockedUntil: now.Add(apikey.IdempotencyLock), ExpiresAt: now.Add(apikey.IdempotencyWindow)}
		}
		claim := func(c apikey.IdempotencyClaim) {
			if prior, err := bb.store.ClaimIdempotencyKey(bb.ctx, c); err != nil || prior != nil {
				bb.Fatal(err, prior)
			}
		}
		create := func(c apikey.IdempotencyClaim, id string, edk []byte) {
			if err := bb.store.CreateKey(bb.ctx, newSecret(c.MID, id, edk, &c)); err != nil {
				bb.Fatal(err)
			}
		}
		serial := func() {
			c, id := newClaim(), apikey.NewID(time.Now())
			claim(c)
			create(c, id, bb.dataKey(m.MID, id))
		}
		critical := func() {
			c, id := newClaim(), apikey.NewID(time.Now())
			var edk []byte
			both(func() { claim(c) }, func() { edk = bb.dataKey(m.MID, id) })
			create(c, id, edk)
		}
		next := func() (map[string]string, string) {
			return apitest.WithIdempotencyKey(tok, apitest.NewIdempotencyKey()), body
		}
		bb.measure(bb.serve(bb.stack(), "POST", "/v1/api-keys", 201, next), protectedFloor(b, tok, serial), protectedFloor(b, tok, critical))
	})
}

// tokenFloor is the bare calls of a token request for m's pair: sign (one
// KMS Sign) and the store's own transaction, as RecordExchange or
// RotateRefresh builds it.
type tokenFloor struct {
	bb *bench
	m  apitest.Merchant
}

func (f tokenFloor) sign() {
	digest := make([]byte, 32)
	if _, err := f.bb.clients.KMS.Sign(f.bb.ctx, &kms.SignInput{KeyId: aws.String(apitest.Env().Config.SigningKeyID), Message: digest,
		MessageType: kmstypes.MessageTypeDigest, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256}); err != nil {
		f.bb.Fatal(err)
	}
}

// record is a refresh token of m's pair, issued now, of family.
func (f tokenFloor) record(family string) auth.RefreshRecord {
	now := time.Now().UTC().Truncate(time.Second)
	rec := auth.RefreshRecord{FamilyID: family, SecretKeyID: f.m.SecretKeyID, PublicKeyID: f.m.PublicKeyID, MID: f.m.MID, SecretGen: 1, PublicGen: 1,
		Scope: strings.Join(f.m.Scopes, " "), AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(auth.RefreshTTL)}
	if _, err := rand.Read(rec.Digest[:]); err != nil {
		f.bb.Fatal(err)
	}
	return rec
}

func (f tokenFloor) exchange() {
	if err := f.bb.store.RecordExchange(f.bb.ctx, f.record(apikey.NewID(time.Now())), benchTokenLimit); err != nil {
		f.bb.Fatal(err)
	}
}

// The floor of a key-pair exchange: the lookup of both digests (one
// BatchGetItem), then the Sign and the transaction, which need only the
// lookup.
func BenchmarkTokenVsFloor(b *testing.B) {
	m := apitest.NewMerchant(b)
	body := `{"AppKey":"` + m.AppKey + `","AppSecret":"` + m.AppSecret + `"}`
	pd, sd := apikey.DigestOf(m.AppKey), apikey.DigestOf(m.AppSecret)
	eachRegime(b, func(bb *bench) {
		f := tokenFloor{bb, m}
		lookup := func() {
			if p, s, err := bb.store.LookupCredentials(bb.ctx, pd, sd); err != nil || p == nil || s == nil {
				bb.Fatal(err)
			}
		}
		serial := func() { lookup(); f.sign(); f.exchange() }
		critical := func() { lookup(); both(f.sign, f.exchange) }
		h := bb.measure(bb.serve(bb.stack(), "POST", "/v1/oauth2/token", 200, fixed(apitest.JSONCT, body)), serial, critical)
		// A container serves one request at a time: at the median, this is
		// what one sustains, exchanging without pause.
		bb.ReportMetric(float64(time.Second)/float64(h), "tokens/s/container")
	})
}

// The floor of a refresh: the refresh token's record (GetItem), then both
// keys' records (BatchGetItem), then the Sign and the rotation, which need
// only those reads. Each iteration refreshes the token the last one got,
// through the route and through the floors alike.
func BenchmarkRefreshVsFloor(b *testing.B) {
	m := apitest.NewMerchant(b)
	eachRegime(b, func(bb *bench) {
		h := bb.stack()
		rt := apitest.Str(apitest.MustExchangeOn(b, h, m.AppKey, m.AppSecret), "refreshToken")
		handler := func() {
			r := apitest.Serve(h, "POST", "/v1/oauth2/token", apitest.JSONCT, `{"RefreshToken":"`+rt+`"}`)
			var out struct {
				RefreshToken string `json:"refreshToken"`
			}
			if r.Code != 200 || json.Unmarshal(r.Body.Bytes(), &out) != nil {
				bb.Fatalf("refresh: %d %s", r.Code, r.Body)
			}
			rt = out.RefreshToken
		}
		f := tokenFloor{bb, m}
		cur := f.record(apikey.NewID(time.Now()))
		if err := bb.store.RecordExchange(bb.ctx, cur, benchTokenLimit); err != nil {
			bb.Fatal(err)
		}
		floor := func(concurrent bool) func() {
			return func() {
				if rec, err := bb.store.LookupRefresh(bb.ctx, cur.Digest); err != nil || rec == nil {
					bb.Fatal(err)
				}
				if states, err := bb.store.KeyStates(bb.ctx, m.SecretKeyID, m.PublicKeyID); err != nil || len(states) != 2 {
					bb.Fatal(err)
				}
				next := f.record(cur.FamilyID)
				next.AuthTime, next.ExpiresAt = cur.AuthTime, cur.ExpiresAt
				rotate := func() {
					if err := bb.store.RotateRefresh(bb.ctx, cur.Digest, next, benchTokenLimit); err != nil {
						bb.Fatal(err)
					}
				}
				if concurrent {
					both(f.sign, rotate)
				} else {
					f.sign()
					rotate()
				}
				cur = next
			}
		}
		bb.measure(handler, floor(false), floor(true))
	})
}
