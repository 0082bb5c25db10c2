// Package config reads the service's settings from the environment and
// builds the AWS clients once per cold start.
package config

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

// Config is everything a function needs from its environment.
type Config struct {
	Stage     apikey.Stage
	TableName string
	// AuditTableName is the append-only table of audit events.
	AuditTableName string
	// AuditRetentionDays is how long audit events are kept (0: 400 days).
	AuditRetentionDays int
	// SecretScanningKeysURL is GitHub's document of secret-scanning keys.
	SecretScanningKeysURL string
	// DataKeyID is the symmetric KMS key that seals key values.
	DataKeyID string
	// SigningKeyID is the ECC_NIST_P256 KMS key that signs access tokens
	// (its key id: the kid of its tokens).
	SigningKeyID string
	// VerifyKeyIDs are other signing keys whose tokens verify (rotation),
	// by key id.
	VerifyKeyIDs []string
	Issuer       string
	Audience     string
	Region       string
	// DynamoDBEndpoint and KMSEndpoint override the AWS endpoints (local emulators).
	DynamoDBEndpoint string
	KMSEndpoint      string
	LogLevel         string
	// CursorSecret keys the MAC of list cursors (CURSOR_SECRET, or the
	// secret CursorSecretARN names, once ReadCursorSecret has read it).
	CursorSecret string
	// CursorSecretARN names the Secrets Manager secret holding CursorSecret
	// (CURSOR_SECRET_ARN): how deployments pass it, so that the value never
	// sits in the function's configuration.
	CursorSecretARN string
	// TokenRateLimit is how many tokens a secret key may obtain per minute,
	// exchanges and refreshes together (TOKEN_RATE_LIMIT).
	TokenRateLimit int
	// RequestBudget is the time a request may take (REQUEST_BUDGET); zero
	// means DefaultRequestBudget. Inside Lambda the invocation's deadline,
	// less a margin, bounds it too.
	RequestBudget time.Duration
}

// DefaultRequestBudget is the request budget when REQUEST_BUDGET is unset:
// well inside the functions' 10 s timeout, and far above what a request
// takes when DynamoDB and KMS answer (milliseconds).
const DefaultRequestBudget = 3 * time.Second

// Budget is the time a request may take.
func (c Config) Budget() time.Duration {
	if c.RequestBudget > 0 {
		return c.RequestBudget
	}
	return DefaultRequestBudget
}

// ParseBudget reads a request budget, a Go duration such as "3s" or
// "300ms"; "" is the default.
func ParseBudget(s string) (time.Duration, error) {
	if s == "" {
		return DefaultRequestBudget, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("config: REQUEST_BUDGET must be a positive Go duration such as 3s or 800ms, not %q", s)
	}
	return d, nil
}

// Defaults of the token issuer per stage (upstream API hosts).
var issuers = map[apikey.Stage]string{
	apikey.Sandbox:    "https://api-sandbox.flex-charge.com",
	apikey.Production: "https://api.flex-charge.com",
}

// FromEnv reads the configuration; a missing required setting is an error
// naming it.
func FromEnv() (Config, error) {
	return fromLookup(os.Getenv)
}

func fromLookup(get func(string) string) (Config, error) {
	c := Config{
		Stage:          apikey.Stage(orDefault(get("STAGE"), string(apikey.Sandbox))),
		TableName:      get("TABLE_NAME"),
		AuditTableName: get("AUDIT_TABLE_NAME"),
		SecretScanningKeysURL: orDefault(get("SECRET_SCANNING_KEYS_URL"),
			"https://api.github.com/meta/public_keys/secret_scanning"),
		DataKeyID:        get("KMS_DATA_KEY_ID"),
		SigningKeyID:     keyID(get("KMS_SIGNING_KEY_ID")),
		Region:           orDefault(get("AWS_REGION"), "us-east-1"),
		DynamoDBEndpoint: get("DYNAMODB_ENDPOINT"),
		KMSEndpoint:      get("KMS_ENDPOINT"),
		LogLevel:         get("LOG_LEVEL"),
		CursorSecret:     get("CURSOR_SECRET"),
		CursorSecretARN:  get("CURSOR_SECRET_ARN"),
	}
	budget, err := ParseBudget(get("REQUEST_BUDGET"))
	if err != nil {
		return Config{}, err
	}
	c.RequestBudget = budget
	for _, id := range strings.Split(get("KMS_VERIFY_KEY_IDS"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.VerifyKeyIDs = append(c.VerifyKeyIDs, keyID(id))
		}
	}
	limit, err := TokenRateLimit(get("TOKEN_RATE_LIMIT"))
	if err != nil {
		return Config{}, err
	}
	c.TokenRateLimit = limit
	if c.CursorSecret != "" && len(c.CursorSecret) < apikey.MinCursorKeyLen {
		return Config{}, fmt.Errorf("config: CURSOR_SECRET must be at least %d bytes", apikey.MinCursorKeyLen)
	}
	if c.CursorSecret != "" && c.CursorSecretARN != "" {
		return Config{}, errors.New("config: set CURSOR_SECRET or CURSOR_SECRET_ARN, not both")
	}
	if v := get("AUDIT_RETENTION_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 {
			return Config{}, fmt.Errorf("config: AUDIT_RETENTION_DAYS must be a whole number of days, not %q", v)
		}
		c.AuditRetentionDays = days
	}
	if !c.Stage.Valid() {
		return Config{}, fmt.Errorf("config: STAGE must be sandbox or production, not %q", c.Stage)
	}
	c.Issuer = orDefault(get("TOKEN_ISSUER"), issuers[c.Stage])
	c.Audience = orDefault(get("TOKEN_AUDIENCE"), c.Issuer+"/v1")
	var missing []string
	for _, req := range [][2]string{{"TABLE_NAME", c.TableName}, {"AUDIT_TABLE_NAME", c.AuditTableName}, {"KMS_SIGNING_KEY_ID", c.SigningKeyID}} {
		if req[1] == "" {
			missing = append(missing, req[0])
		}
	}
	if len(missing) > 0 {
		return Config{}, errors.New("config: missing " + strings.Join(missing, ", "))
	}
	return c, nil
}

// keyID is the key id of a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>),
// and any other reference as it is. The template passes keys named by a
// parameter as ARNs, which IAM grants need, while the id is the kid of the
// key's tokens (the id of a key the stack created, and what the tokens it
// signed carry), so a rotation keeps every kid in one form.
func keyID(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		if _, id, ok := strings.Cut(ref, ":key/"); ok {
			return id
		}
	}
	return ref
}

// TokenRateLimit reads TOKEN_RATE_LIMIT: a whole number of tokens per
// minute, at least 1; empty means auth.DefaultTokenLimit.
func TokenRateLimit(v string) (int, error) {
	if v == "" {
		return auth.DefaultTokenLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("config: TOKEN_RATE_LIMIT must be a whole number of tokens per minute, at least 1, not %q", v)
	}
	return n, nil
}

// VerificationKeys are the KMS keys whose tokens are accepted: the signing
// key first, then any kept for rotation.
func (c Config) VerificationKeys() []string {
	return append([]string{c.SigningKeyID}, c.VerifyKeyIDs...)
}

// CursorKey is the key that authenticates list cursors: CURSOR_SECRET when
// set (directly, or read from CURSOR_SECRET_ARN). Without it the key is
// derived from the stage and table name, which are not secret: cursors then
// still detect any edit and stay bound to their merchant (the list route
// checks the mid against the token as well), but a client that knows those
// names could forge a cursor for its own listing, which gains it nothing it
// could not get by paging. Deployments set it.
func (c Config) CursorKey() []byte {
	if c.CursorSecret != "" {
		return []byte(c.CursorSecret)
	}
	sum := sha256.Sum256([]byte("credplane/cursor-key/" + string(c.Stage) + "/" + c.TableName))
	return sum[:]
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
