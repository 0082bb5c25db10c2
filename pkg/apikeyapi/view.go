package apikeyapi

import (
	"net/http"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/httpapi"
)

// keyBody is a key's metadata as the lifecycle routes show it. value is
// present only for public and tokenization keys, and only on a single get.
type keyBody struct {
	ID        string   `json:"id"`
	MID       string   `json:"mid"`
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Scopes    []string `json:"scopes"`
	Status    string   `json:"status"`
	CreatedAt string   `json:"created_at"`
	ExpiresAt *string  `json:"expires_at"`
	LastUsed  *string  `json:"last_used"`
	LastFour  string   `json:"last_four"`
	RevokedAt *string  `json:"revoked_at,omitempty"`
	// RevokedReason is "deleted" or "leaked" (a secret-scanning report).
	RevokedReason string  `json:"revoked_reason,omitempty"`
	RolledAt      *string `json:"rolled_at,omitempty"`
	Value         *string `json:"value,omitempty"`
}

func keyBodyOf(k apikey.Key, now time.Time) keyBody {
	b := keyBody{
		ID:        k.ID,
		MID:       k.MID,
		Name:      k.Name,
		Type:      string(k.Type),
		Scopes:    k.Scopes,
		Status:    string(k.StatusAt(now)),
		CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339),
		ExpiresAt: timestamp(k.ExpiresAt),
		LastUsed:  timestamp(k.LastUsed),
		LastFour:  k.LastFour,
		RevokedAt: timestamp(k.RevokedAt),
		RolledAt:  timestamp(k.RolledAt),
	}
	if k.Revoked {
		b.RevokedReason = k.RevokedReason
		if b.RevokedReason == "" {
			b.RevokedReason = apikey.ReasonDeleted // revoked before reasons were kept
		}
	}
	return b
}

// timestamp renders an optional time as RFC 3339 UTC, nil when unset.
func timestamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// caller is the authenticated principal as the key service sees it.
func caller(r *http.Request) apikey.Caller {
	p, _ := httpapi.PrincipalFrom(r.Context())
	return apikey.Caller{MID: p.MID, KeyID: p.SecretKeyID, Scopes: p.Scopes}
}
