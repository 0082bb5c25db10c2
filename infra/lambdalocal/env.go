package lambdalocal

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/infra/samtemplate"
	"github.com/flexfactor/credplane/pkg/config"
)

// Environment returns function fn's environment variables as template.yaml
// declares them, with the values of the local stage cfg. The names come from
// the template, so a variable the template gains without a local value here
// is an error now rather than a surprise in AWS.
func Environment(tpl *samtemplate.Template, fn string, cfg config.Config) (map[string]string, error) {
	logLevel := cfg.LogLevel
	if logLevel == "" {
		logLevel = "info"
	}
	local := map[string]string{
		"STAGE":                string(cfg.Stage),
		"TABLE_NAME":           cfg.TableName,
		"AUDIT_TABLE_NAME":     cfg.AuditTableName,
		"AUDIT_RETENTION_DAYS": "400",
		// The unsigned sample report is refused before any key is fetched;
		// nothing listens here.
		"SECRET_SCANNING_KEYS_URL": "http://127.0.0.1:9/meta/public_keys/secret_scanning",
		"KMS_DATA_KEY_ID":          cfg.DataKeyID,
		"KMS_SIGNING_KEY_ID":       cfg.SigningKeyID,
		"KMS_VERIFY_KEY_IDS":       strings.Join(cfg.VerifyKeyIDs, ","),
		"TOKEN_ISSUER":             cfg.Issuer,
		"TOKEN_AUDIENCE":           cfg.Audience,
		"LOG_LEVEL":                logLevel,
		"DYNAMODB_ENDPOINT":        cfg.DynamoDBEndpoint,
		"KMS_ENDPOINT":             cfg.KMSEndpoint,
		"CURSOR_SECRET":            cfg.CursorSecret, // empty: derived locally (see config.CursorKey)
		"CURSOR_SECRET_ARN":        cfg.CursorSecretARN,
		"TOKEN_RATE_LIMIT":         tokenRateLimit(cfg),
	}
	declared := tpl.Environment(fn)
	if len(declared) == 0 {
		return nil, fmt.Errorf("template.yaml declares no environment for %q", fn)
	}
	out := make(map[string]string, len(declared))
	for name := range declared {
		v, ok := local[name]
		if !ok {
			return nil, fmt.Errorf("template.yaml gives %s to %s, which has no local value: add it to lambdalocal.Environment", name, fn)
		}
		out[name] = v
	}
	return out, nil
}

// tokenRateLimit is cfg's TOKEN_RATE_LIMIT; empty (the default) when cfg
// sets none.
func tokenRateLimit(cfg config.Config) string {
	if cfg.TokenRateLimit == 0 {
		return ""
	}
	return strconv.Itoa(cfg.TokenRateLimit)
}

// RuntimeEnvironment returns the variables Lambda itself sets for fn, with
// its memory size and timeout from template.yaml; the emulators accept any
// credentials.
func RuntimeEnvironment(tpl *samtemplate.Template, fn string) map[string]string {
	return map[string]string{
		"AWS_REGION":                      emulator.Region,
		"AWS_DEFAULT_REGION":              emulator.Region,
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_SESSION_TOKEN":               "local",
		"AWS_LAMBDA_FUNCTION_NAME":        fn,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": functionProperty(tpl, fn, "MemorySize", "128"),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     functionProperty(tpl, fn, "Timeout", "3"),
		"TZ":                              ":UTC",
	}
}

// functionProperty is a function's own property, else the Globals' one,
// else def.
func functionProperty(tpl *samtemplate.Template, fn, key, def string) string {
	for _, n := range []*samtemplate.Node{
		samtemplate.Get(tpl.Resource(fn), "Properties", key),
		samtemplate.Get(tpl.Root, "Globals", "Function", key),
	} {
		if n != nil {
			return n.Value
		}
	}
	return def
}

// processEnv is the environment of a process run in dir: env, and nothing
// inherited but PATH. HOME is dir, so no ~/.aws files are read. The entries
// are sorted KEY=value.
func processEnv(dir string, env map[string]string) []string {
	full := map[string]string{"PATH": os.Getenv("PATH"), "HOME": dir}
	maps.Copy(full, env)
	out := make([]string, 0, len(full))
	for k, v := range full {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
