// Package scope holds the catalogue of API key scopes and the rules that
// decide which scopes a key of each type may hold.
package scope

import (
	"errors"
	"slices"
	"strings"
)

// Tokenize is the only scope a tokenization key may hold.
const Tokenize = "tokenize"

// Names of the scopes that guard the key-management routes.
const (
	APIKeysRead  = "api-keys:read"
	APIKeysWrite = "api-keys:write"
)

// resources are the catalogue entries that come with :read and :write.
var resources = []string{"customers", "charges", "orders", "payments", "refunds", "merchants", "api-keys"}

// catalogue is every valid scope, in a stable order.
var catalogue = func() []string {
	out := make([]string, 0, 2*len(resources)+1)
	for _, r := range resources {
		out = append(out, r+":read", r+":write")
	}
	return append(out, Tokenize)
}()

// ErrInvalid reports a scope that is not in the catalogue.
var ErrInvalid = errors.New("invalid scope value")

// All returns every scope in the catalogue; the caller owns the slice.
func All() []string { return slices.Clone(catalogue) }

// Valid reports whether s is in the catalogue.
func Valid(s string) bool { return slices.Contains(catalogue, s) }

// Normalize checks every scope against the catalogue and collapses
// duplicates, keeping the first occurrence's order.
func Normalize(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !Valid(s) {
			return nil, ErrInvalid
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Missing returns the scopes in want that have does not hold.
func Missing(have, want []string) []string {
	var out []string
	for _, s := range want {
		if !slices.Contains(have, s) {
			out = append(out, s)
		}
	}
	return out
}

// Contains reports whether have holds s.
func Contains(have []string, s string) bool { return slices.Contains(have, s) }

// Join renders scopes as the space-separated string used in tokens (RFC 6749 §3.3).
func Join(s []string) string { return strings.Join(s, " ") }

// Split parses a space-separated scope string; empty parts are dropped.
func Split(s string) []string { return strings.Fields(s) }
