package apikey

import (
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flexfactor/credplane/pkg/scope"
)

// Public validation messages of the contract (SPEC "POST /v1/api-keys").
const (
	MsgMissingMID       = "Missing required field: mid."
	MsgMissingName      = "Missing required field: name."
	MsgMissingType      = "Missing required field: type."
	MsgInvalidMID       = "Invalid mid."
	MsgInvalidName      = "Invalid name."
	MsgInvalidType      = "Invalid type value."
	MsgInvalidScope     = "Invalid scope value."
	MsgInvalidExpiresAt = "Invalid expires_at value."
)

// MaxNameLen is the longest name accepted, in characters.
const MaxNameLen = 100

// MaxLifetime is the furthest in the future a key may expire.
const MaxLifetime = 10 * 365 * 24 * time.Hour

// CreateRequest is a creation request as decoded from JSON: each member is
// nil when absent or null, otherwise the decoded value of whatever type the
// client sent, so that a wrong type is reported like any other bad value.
// A member present but impossible to decode must be non-nil as well (any
// value of a type no check accepts), or it would take the default.
type CreateRequest struct {
	MID, Name, Type, Scopes, ExpiresAt any
}

// CreateInput is a validated creation request.
type CreateInput struct {
	MID       string
	Name      string
	Type      Type
	Scopes    []string // nil when omitted: the type's default applies
	ExpiresAt *time.Time
}

// Validate checks every member and reports all problems at once.
func (r CreateRequest) Validate(now time.Time) (CreateInput, error) {
	var in CreateInput
	var problems []string
	fail := func(msg string) { problems = append(problems, msg) }

	switch v, ok := r.MID.(string); {
	case r.MID == nil || (ok && v == ""):
		fail(MsgMissingMID)
	case !ok || !ValidMID(v):
		fail(MsgInvalidMID)
	default:
		in.MID = v
	}

	switch v, ok := r.Name.(string); {
	case r.Name == nil || (ok && v == ""):
		fail(MsgMissingName)
	case !ok || !validName(v):
		fail(MsgInvalidName)
	default:
		in.Name = v
	}

	typeOK := false
	switch v, ok := r.Type.(string); {
	case r.Type == nil || (ok && v == ""):
		fail(MsgMissingType)
	case !ok || !Type(v).Valid():
		fail(MsgInvalidType)
	default:
		in.Type, typeOK = Type(v), true
	}

	if r.Scopes != nil {
		s, ok := scopesOf(r.Scopes)
		if ok && typeOK {
			ok = allowedFor(in.Type, s)
		}
		if ok {
			in.Scopes = s
		} else {
			fail(MsgInvalidScope)
		}
	}

	if r.ExpiresAt != nil {
		t, ok := expiryOf(r.ExpiresAt, now)
		if ok {
			in.ExpiresAt = &t
		} else {
			fail(MsgInvalidExpiresAt)
		}
	}

	if len(problems) > 0 {
		return CreateInput{}, &ValidationError{Problems: problems}
	}
	return in, nil
}

// validName accepts at most MaxNameLen characters of valid UTF-8 without
// < or >, control characters (C0, DEL, C1) or bidirectional formatting
// characters: names reach logs, terminals and dashboards, where those could
// forge lines, run escape sequences or show text in another order.
func validName(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxNameLen {
		return false
	}
	for _, r := range s {
		if r == '<' || r == '>' || unicode.IsControl(r) || bidiFormatting(r) {
			return false
		}
	}
	return true
}

// bidiFormatting reports the characters of SPEC's list that change the
// display order of the text around them: LRM and RLM, the embeddings and
// overrides (U+202A-U+202E) and the isolates (U+2066-U+2069).
func bidiFormatting(r rune) bool {
	return (r >= '\u200E' && r <= '\u200F') || (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// scopesOf accepts a JSON array of catalogue strings and collapses duplicates.
func scopesOf(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	raw := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		raw = append(raw, s)
	}
	out, err := scope.Normalize(raw)
	return out, err == nil
}

// allowedFor applies the per-type scope rules: tokenization keys hold only
// tokenize, public keys hold none, secret keys any catalogue scope.
func allowedFor(t Type, s []string) bool {
	switch t {
	case Tokenization:
		return len(s) == 1 && s[0] == scope.Tokenize
	case Public:
		return len(s) == 0
	}
	return true
}

// expiryOf accepts an RFC 3339 time in the future, at most MaxLifetime away.
func expiryOf(v any, now time.Time) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || !t.After(now) || t.Sub(now) > MaxLifetime {
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Second), true
}

// DefaultScopes are the scopes a key gets when the request omits them:
// a secret key inherits the caller's, a tokenization key gets tokenize.
func DefaultScopes(t Type, caller []string) []string {
	switch t {
	case Secret:
		return append([]string{}, caller...)
	case Tokenization:
		return []string{scope.Tokenize}
	}
	return []string{}
}
