package apikey

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2024, 11, 16, 12, 0, 0, 0, time.UTC)

func TestValidateReportsEveryProblem(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen+1)
	tests := []struct {
		name string
		req  CreateRequest
		want []string
	}{
		{"all missing", CreateRequest{}, []string{MsgMissingMID, MsgMissingName, MsgMissingType}},
		{"empty strings are missing", CreateRequest{MID: "", Name: "", Type: ""}, []string{MsgMissingMID, MsgMissingName, MsgMissingType}},
		{"upstream example: bad scope and no type", CreateRequest{MID: "mid_123456", Name: "My API Key", Scopes: []any{"nope"}}, []string{MsgMissingType, MsgInvalidScope}},
		{"bad mid", CreateRequest{MID: "mid 1", Name: "n", Type: "secret"}, []string{MsgInvalidMID}},
		{"mid too long", CreateRequest{MID: strings.Repeat("m", 65), Name: "n", Type: "secret"}, []string{MsgInvalidMID}},
		{"mid not a string", CreateRequest{MID: 12.0, Name: "n", Type: "secret"}, []string{MsgInvalidMID}},
		{"name with <", CreateRequest{MID: "m", Name: "a<b", Type: "secret"}, []string{MsgInvalidName}},
		{"name with >", CreateRequest{MID: "m", Name: "a>b", Type: "secret"}, []string{MsgInvalidName}},
		{"name too long", CreateRequest{MID: "m", Name: long, Type: "secret"}, []string{MsgInvalidName}},
		{"name not a string", CreateRequest{MID: "m", Name: true, Type: "secret"}, []string{MsgInvalidName}},
		{"bad type", CreateRequest{MID: "m", Name: "n", Type: "master"}, []string{MsgInvalidType}},
		{"scopes not a list", CreateRequest{MID: "m", Name: "n", Type: "secret", Scopes: "charges:read"}, []string{MsgInvalidScope}},
		{"scope not a string", CreateRequest{MID: "m", Name: "n", Type: "secret", Scopes: []any{1.0}}, []string{MsgInvalidScope}},
		{"public key with scopes", CreateRequest{MID: "m", Name: "n", Type: "public", Scopes: []any{"charges:read"}}, []string{MsgInvalidScope}},
		{"tokenization key with other scope", CreateRequest{MID: "m", Name: "n", Type: "tokenization", Scopes: []any{"tokenize", "charges:read"}}, []string{MsgInvalidScope}},
		{"tokenization key with no scope", CreateRequest{MID: "m", Name: "n", Type: "tokenization", Scopes: []any{}}, []string{MsgInvalidScope}},
		{"expiry in the past", CreateRequest{MID: "m", Name: "n", Type: "secret", ExpiresAt: "2024-11-16T11:59:59Z"}, []string{MsgInvalidExpiresAt}},
		{"expiry now", CreateRequest{MID: "m", Name: "n", Type: "secret", ExpiresAt: "2024-11-16T12:00:00Z"}, []string{MsgInvalidExpiresAt}},
		{"expiry beyond ten years", CreateRequest{MID: "m", Name: "n", Type: "secret", ExpiresAt: "2034-11-20T12:00:00Z"}, []string{MsgInvalidExpiresAt}},
		{"expiry not RFC 3339", CreateRequest{MID: "m", Name: "n", Type: "secret", ExpiresAt: "tomorrow"}, []string{MsgInvalidExpiresAt}},
		{"everything wrong", CreateRequest{MID: "!", Name: "<", Type: "x", Scopes: []any{"x"}, ExpiresAt: 3.0}, []string{MsgInvalidMID, MsgInvalidName, MsgInvalidType, MsgInvalidScope, MsgInvalidExpiresAt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.req.Validate(now)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if !slices.Equal(ve.Problems, tt.want) {
				t.Fatalf("problems = %q, want %q", ve.Problems, tt.want)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		req  CreateRequest
		want CreateInput
	}{
		{"upstream example", CreateRequest{MID: "mid_123456", Name: "My API Key", Type: "secret", Scopes: []any{"customers:read", "charges:read"}},
			CreateInput{MID: "mid_123456", Name: "My API Key", Type: Secret, Scopes: []string{"customers:read", "charges:read"}}},
		{"uuid mid, duplicates collapse in order", CreateRequest{MID: "3f1c2a9e-8c1b-4b7e-9a59-1f0d2c3b4a5e", Name: "n", Type: "secret", Scopes: []any{"charges:write", "orders:read", "charges:write"}},
			CreateInput{MID: "3f1c2a9e-8c1b-4b7e-9a59-1f0d2c3b4a5e", Name: "n", Type: Secret, Scopes: []string{"charges:write", "orders:read"}}},
		{"omitted scopes stay nil", CreateRequest{MID: "m", Name: "n", Type: "tokenization"},
			CreateInput{MID: "m", Name: "n", Type: Tokenization}},
		{"tokenization with tokenize", CreateRequest{MID: "m", Name: "n", Type: "tokenization", Scopes: []any{"tokenize"}},
			CreateInput{MID: "m", Name: "n", Type: Tokenization, Scopes: []string{"tokenize"}}},
		{"public with empty scopes", CreateRequest{MID: "m", Name: "n", Type: "public", Scopes: []any{}},
			CreateInput{MID: "m", Name: "n", Type: Public, Scopes: []string{}}},
		{"100 characters, unicode", CreateRequest{MID: "m", Name: strings.Repeat("é", 100), Type: "public"},
			CreateInput{MID: "m", Name: strings.Repeat("é", 100), Type: Public}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.Validate(now)
			if err != nil {
				t.Fatal(err)
			}
			if got.MID != tt.want.MID || got.Name != tt.want.Name || got.Type != tt.want.Type ||
				!slices.Equal(got.Scopes, tt.want.Scopes) || (got.Scopes == nil) != (tt.want.Scopes == nil) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateExpiry(t *testing.T) {
	in, err := CreateRequest{MID: "m", Name: "n", Type: "secret", ExpiresAt: "2025-01-01T00:00:00+02:00"}.Validate(now)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 12, 31, 22, 0, 0, 0, time.UTC); !in.ExpiresAt.Equal(want) || in.ExpiresAt.Location() != time.UTC {
		t.Fatalf("ExpiresAt = %v, want %v in UTC", in.ExpiresAt, want)
	}
}

func TestValidateNameCharacters(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"plain ASCII, spaces and punctuation: prod-1 (eu)", true},
		{"Zahlungen – Prüfung ✓", true},
		{"日本語のキー", true},
		{"family 👩\u200d👩\u200d👧 key", true}, // zero-width joiner: not a bidi control
		{"no\u00a0break", true},              // first character after C1
		{"hyphen\u2010and paragraph\u2029", true},
		{"\u2065\u206a", true}, // either side of the isolates
		{"\u200d\u2010", true}, // either side of LRM and RLM
		{"\u2029\u202f", true}, // either side of the embeddings and overrides
		{"nul\x00", false},
		{"line\r\nbreak", false},
		{"tab\there", false},
		{"\x1b[31mred\x1b[0m", false},
		{"del\x7f", false},
		{"next line\u0085", false},
		{"csi\u009b31m", false},
		{"c1 end\u009f", false},
		{"lrm\u200e", false},
		{"rlm\u200f", false},
		{"lre\u202a", false},
		{"rlo\u202egnp.exe", false},
		{"lri\u2066", false},
		{"pdi\u2069", false},
		{"invalid \xff UTF-8", false},
		{"truncated \xc3", false},
	}
	for _, tt := range tests {
		_, err := CreateRequest{MID: "m", Name: tt.name, Type: "public"}.Validate(now)
		var ve *ValidationError
		switch {
		case tt.ok && err != nil:
			t.Errorf("%q refused: %v", tt.name, err)
		case !tt.ok && (!errors.As(err, &ve) || !slices.Equal(ve.Problems, []string{MsgInvalidName})):
			t.Errorf("%q: err = %v, want only %q", tt.name, err, MsgInvalidName)
		}
	}
}
