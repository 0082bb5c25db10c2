package lambdalocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/app"
)

// The placeholders of the sample events (see events/README.md).
const (
	placeholderMID          = "MID"
	placeholderAppKey       = "APP_KEY"
	placeholderAppSecret    = "APP_SECRET"
	placeholderAccessToken  = "ACCESS_TOKEN"
	placeholderRefreshToken = "REFRESH_TOKEN"
	placeholderKeyID        = "KEY_ID"
)

var placeholder = regexp.MustCompile(`\{\{([A-Z_]+)\}\}`)

// Placeholders lists the placeholder names an event uses, once each.
func Placeholders(event []byte) []string {
	var names []string
	for _, m := range placeholder.FindAllSubmatch(event, -1) {
		if n := string(m[1]); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// Fixtures are the credentials that fill the events' placeholders, issued
// on a local stage through the functions' own code paths: onboarding, the
// token exchange and key creation.
type Fixtures struct {
	Deps app.Deps
	// Merchant is the onboarded merchant: its mid and first key pair.
	Merchant app.OnboardResult
	// AccessToken is a token minted from the merchant's pair.
	AccessToken string
}

// NewFixtures onboards merchant mid and mints an access token for it.
func NewFixtures(ctx context.Context, deps app.Deps, mid string) (*Fixtures, error) {
	res, err := deps.Onboard()(ctx, app.OnboardEvent{MID: mid, Name: "Sample events"})
	if err != nil {
		return nil, fmt.Errorf("onboard %s: %w", mid, err)
	}
	if !res.Success {
		return nil, fmt.Errorf("onboard %s: %v", mid, res.Errors)
	}
	tok, err := deps.Auth().Exchange(ctx, res.AppKey, res.AppSecret, nil)
	if err != nil {
		return nil, fmt.Errorf("token for %s: %w", mid, err)
	}
	return &Fixtures{Deps: deps, Merchant: res, AccessToken: tok.AccessToken}, nil
}

// Fill replaces the placeholders of an event. Each call that uses
// {{KEY_ID}} gets a key of its own and each that uses {{REFRESH_TOKEN}} a
// fresh refresh token, so events may delete, roll or revoke them in any
// order. The returned values are what each placeholder became.
func (f *Fixtures) Fill(ctx context.Context, event []byte) ([]byte, map[string]string, error) {
	values := map[string]string{}
	for _, name := range Placeholders(event) {
		v, err := f.value(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		values[name] = v
	}
	out := placeholder.ReplaceAllFunc(event, func(m []byte) []byte {
		return []byte(values[string(m[2:len(m)-2])])
	})
	if !json.Valid(out) {
		return nil, nil, errors.New("the filled event is not valid JSON")
	}
	return out, values, nil
}

func (f *Fixtures) value(ctx context.Context, name string) (string, error) {
	m := f.Merchant
	switch name {
	case placeholderMID:
		return m.MID, nil
	case placeholderAppKey:
		return m.AppKey, nil
	case placeholderAppSecret:
		return m.AppSecret, nil
	case placeholderAccessToken:
		return f.AccessToken, nil
	case placeholderRefreshToken:
		tok, err := f.Deps.Auth().Exchange(ctx, m.AppKey, m.AppSecret, nil)
		if err != nil {
			return "", fmt.Errorf("refresh token: %w", err)
		}
		return tok.RefreshToken, nil
	case placeholderKeyID:
		created, err := f.Deps.Keys().Create(ctx,
			apikey.Caller{MID: m.MID, KeyID: m.SecretKeyID, Scopes: m.Scopes},
			apikey.CreateInput{MID: m.MID, Name: "Sample key", Type: apikey.Public})
		if err != nil {
			return "", fmt.Errorf("key for {{%s}}: %w", name, err)
		}
		return created.Key.ID, nil
	}
	return "", fmt.Errorf("unknown placeholder {{%s}} (see events/README.md)", name)
}
