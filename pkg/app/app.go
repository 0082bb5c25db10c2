// Package app assembles each function's http.Handler from the
// configuration and AWS clients: adapters, then services, then routes. The
// Lambda entry points, the local dev server and the tests all use it, so
// they serve the same stack.
package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/flexfactor/credplane/pkg/apidoc"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/apikeyapi"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/dashboard"
	"github.com/flexfactor/credplane/pkg/dynamostore"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/flexfactor/credplane/pkg/oauthapi"
	"github.com/flexfactor/credplane/pkg/secretscan"
	"github.com/flexfactor/credplane/pkg/secretscanapi"
	"github.com/flexfactor/credplane/pkg/token"
)

// Deps are the shared parts every handler is built from.
type Deps struct {
	Config  config.Config
	Clients config.Clients
	Log     *slog.Logger
	// Metrics is where the functions write their metric lines (EMF, which
	// CloudWatch Logs extracts from the function's log output); nil writes
	// none.
	Metrics io.Writer
	// Now is the clock; nil means time.Now (tests inject one).
	Now func() time.Time
	// StatusTTL is how long a key's standing is cached per container; zero
	// means auth.StatusTTL (tests shorten it).
	StatusTTL time.Duration
	// Adapters, when set, replace the DynamoDB and KMS adapters built from
	// Clients (an in-memory stack for tests that need no emulator).
	Adapters *Adapters
	// Verifier, when set, is the access-token verifier the handlers use; nil
	// means a NewVerifier each. A function makes it first thing, so that the
	// keys arrive while the rest of its cold start runs.
	Verifier *token.Verifier
}

// prefetchTimeout bounds the cold-start fetch of the verification keys;
// past it, the first request that needs them fetches them.
const prefetchTimeout = 3 * time.Second

// Store is every storage port the services use.
type Store interface {
	apikey.Store
	auth.Store
	audit.Store
}

// Adapters are the ports the services need from outside the process.
type Adapters struct {
	Store  Store
	Sealer apikey.Sealer
	Signer token.Signer
	// Keys returns the keys that verify access tokens.
	Keys token.KeySource
}

func (d Deps) store() Store {
	if d.Adapters != nil {
		return d.Adapters.Store
	}
	return &dynamostore.Store{Client: d.Clients.DynamoDB, Table: d.Config.TableName, AuditTable: d.Config.AuditTableName}
}

func (d Deps) sealer() apikey.Sealer {
	if d.Adapters != nil {
		return d.Adapters.Sealer
	}
	return &awskms.Envelope{Client: d.Clients.KMS, KeyID: d.Config.DataKeyID}
}

func (d Deps) signer() token.Signer {
	if d.Adapters != nil {
		return d.Adapters.Signer
	}
	return &awskms.Signer{Client: d.Clients.KMS, KeyARN: d.Config.SigningKeyID}
}

func (d Deps) verificationKeys() token.KeySource {
	if d.Adapters != nil {
		return d.Adapters.Keys
	}
	return awskms.PublicKeys(d.Clients.KMS, d.Config.VerificationKeys()...)
}

// Keys returns the key service.
func (d Deps) Keys() *apikey.Service {
	return &apikey.Service{
		Store:     d.store(),
		Sealer:    d.sealer(),
		Stage:     d.Config.Stage,
		CursorKey: d.Config.CursorKey(),
		Now:       d.Now,
		Retention: audit.Retention(d.Config.AuditRetentionDays),
	}
}

// Auth returns the token exchange service.
func (d Deps) Auth() *auth.Service {
	return &auth.Service{
		Store: d.store(),
		Issuer: &token.Issuer{
			Signer:   d.signer(),
			Issuer:   d.Config.Issuer,
			Audience: d.Config.Audience,
			Now:      d.Now,
		},
		Stage:      d.Config.Stage,
		TokenLimit: d.Config.TokenRateLimit,
		Now:        d.Now,
		Retention:  audit.Retention(d.Config.AuditRetentionDays),
	}
}

// NewVerifier returns an access-token verifier that starts fetching the
// public keys at once: a cold container's first request then finds them
// fetched, or on their way, instead of fetching them itself.
func (d Deps) NewVerifier() *token.Verifier {
	v := &token.Verifier{
		Issuer:   d.Config.Issuer,
		Audience: d.Config.Audience,
		Keys:     d.verificationKeys(),
		Now:      d.Now,
	}
	v.Prefetch(prefetchTimeout)
	return v
}

// verifier is d.Verifier, or a new one.
func (d Deps) verifier() *token.Verifier {
	if d.Verifier != nil {
		return d.Verifier
	}
	return d.NewVerifier()
}

// KeyStatus returns a per-container cache of the standing of keys, which
// lets a deleted or rolled key's access tokens die before they expire.
func (d Deps) KeyStatus() *auth.StatusCache {
	return &auth.StatusCache{Source: d.store(), TTL: d.StatusTTL, Now: d.Now}
}

func (d Deps) apiKeys(v *token.Verifier) *apikeyapi.Handler {
	return &apikeyapi.Handler{
		Keys:   d.Keys(),
		Audit:  &audit.Service{Store: d.store(), CursorKey: d.Config.CursorKey()},
		Bearer: &httpapi.Bearer{Verifier: v, Status: d.KeyStatus(), Log: d.Log},
		Log:    d.Log,
		Now:    d.Now,
	}
}

func (d Deps) token(v *token.Verifier) *oauthapi.Handler {
	return &oauthapi.Handler{Auth: d.Auth(), KeySet: v.KeySet, Realm: d.Config.Issuer, Log: d.Log}
}

// metricsOf returns the metric writer of a function (nil without Metrics).
func (d Deps) metricsOf(function string) *metrics.Writer {
	if d.Metrics == nil {
		return nil
	}
	return metrics.New(d.Metrics, string(d.Config.Stage), function, d.Now)
}

// handler is one function's handler serving the groups, every request
// within the configured budget, its metrics named after the function.
func (d Deps) handler(function string, groups ...httpapi.Routes) http.Handler {
	return httpapi.WithBudget(httpapi.Handler(d.Log, d.metricsOf(function), groups...), d.Config.Budget())
}

// APIKeys is the handler of the api-keys function.
func (d Deps) APIKeys() http.Handler { return d.handler(APIKeysFunction, d.apiKeys(d.verifier())) }

// Token is the handler of the token function, which also serves the API
// description and the key dashboard.
func (d Deps) Token() http.Handler {
	return d.handler(TokenFunction, d.token(d.verifier()), apidoc.Handler{}, dashboard.Handler{})
}

// All serves every route on one mux: the local dev server and end-to-end
// tests, where API Gateway's routing is not there to split them. Both
// halves share one verifier, so the public keys are fetched once. Its
// metrics name the function AllFunctions.
func (d Deps) All() http.Handler {
	v := d.verifier()
	return d.handler(AllFunctions, d.apiKeys(v), d.token(v), apidoc.Handler{}, dashboard.Handler{}, d.secretScanning())
}

func (d Deps) secretScanning() *secretscanapi.Handler {
	return &secretscanapi.Handler{
		Verifier: &secretscan.Verifier{URL: d.Config.SecretScanningKeysURL},
		Leaks:    leaks{keys: d.Keys(), log: d.Log},
		Log:      d.Log,
	}
}

// SecretScanning is the handler of the secret-scanning function.
func (d Deps) SecretScanning() http.Handler {
	return d.handler(SecretScanningFunction, d.secretScanning())
}

// leaks hands GitHub's reports to the key domain: the partner is GitHub.
type leaks struct {
	keys *apikey.Service
	log  *slog.Logger
}

func (l leaks) ReportLeak(ctx context.Context, r secretscan.Reported) (secretscan.Label, error) {
	got, err := l.keys.Leak(ctx, apikey.LeakReport{Value: r.Token, Source: r.Source, URL: r.URL, Partner: "github"})
	if err != nil {
		return "", err
	}
	if !got.Real {
		return secretscan.FalsePositive, nil
	}
	if got.Action != "" {
		l.log.WarnContext(ctx, "leaked key value", "event", "key.leaked", "mid", got.Key.MID, "key_id", got.Key.ID,
			"value", got.Which, "action", got.Action, "source", r.Source, "url", r.URL)
	}
	return secretscan.TruePositive, nil
}
