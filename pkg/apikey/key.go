// Package apikey is the domain of merchant API keys: their values, the rules
// for creating them, and the service that issues and manages them. It
// imports no AWS SDK; storage and encryption are ports it owns.
package apikey

import (
	"regexp"
	"time"
)

// Type is the kind of an API key.
type Type string

// The three key types of the upstream API.
const (
	Secret       Type = "secret"
	Public       Type = "public"
	Tokenization Type = "tokenization"
)

// Valid reports whether t is one of the three key types.
func (t Type) Valid() bool { return t == Secret || t == Public || t == Tokenization }

func (t Type) prefix() string {
	switch t {
	case Secret:
		return "sk"
	case Public:
		return "pk"
	default:
		return "tk"
	}
}

func typeByPrefix(p string) (Type, bool) {
	switch p {
	case "sk":
		return Secret, true
	case "pk":
		return Public, true
	case "tk":
		return Tokenization, true
	}
	return "", false
}

// Stage is a deployment stage; keys of one stage never work in the other.
type Stage string

// The two stages.
const (
	Sandbox    Stage = "sandbox"
	Production Stage = "production"
)

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return s == Sandbox || s == Production }

func (s Stage) env() string {
	if s == Production {
		return "live"
	}
	return "test"
}

// Status is the lifecycle state of a key as shown to merchants.
type Status string

// Key statuses.
const (
	Active  Status = "active"
	Revoked Status = "revoked"
	Expired Status = "expired"
)

// Key is the stored record of an API key: metadata only, never the value.
type Key struct {
	ID        string
	MID       string
	Name      string
	Type      Type
	Scopes    []string
	Revoked   bool
	CreatedAt time.Time
	ExpiresAt *time.Time
	LastUsed  *time.Time
	RevokedAt *time.Time
	// RevokedReason is ReasonDeleted or ReasonLeaked once revoked.
	RevokedReason string
	LastFour      string
	// RolledAt is when the value was last replaced; PreviousValidUntil is
	// when the value it replaced stopped (or stops) working.
	RolledAt           *time.Time
	PreviousValidUntil *time.Time
	// Generation numbers the key's values: 1 for the value it was created
	// with, one more for each roll. Digest lookups, refresh tokens and
	// access tokens carry the generation of the value that minted them, so
	// a roll ends them by number, not by comparing clocks.
	Generation int64
}

// FirstGeneration is the generation of a key's first value.
const FirstGeneration = 1

// StatusAt is the key's status at the given time.
func (k Key) StatusAt(now time.Time) Status {
	switch {
	case k.Revoked:
		return Revoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return Expired
	}
	return Active
}

// midPattern is the merchant id syntax: UUIDs and upstream's "mid_123456" both fit.
var midPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidMID reports whether s is a well-formed merchant id.
func ValidMID(s string) bool { return midPattern.MatchString(s) }
