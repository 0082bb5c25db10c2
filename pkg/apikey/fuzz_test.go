package apikey

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The fuzz targets of the parsers that see outside input. Each checks that
// the same input always gets the same answer (it runs twice), that nothing
// panics, and what an accepted input must be. Seeds live in testdata/fuzz.

func FuzzParseValue(f *testing.F) {
	for _, typ := range []Type{Secret, Public, Tokenization} {
		for _, st := range []Stage{Sandbox, Production} {
			v, err := NewValue(typ, st)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(v)
		}
	}
	f.Fuzz(func(t *testing.T, v string) {
		typ, err := ParseValue(v, Sandbox)
		typ2, err2 := ParseValue(v, Sandbox)
		if typ != typ2 || !errors.Is(err2, err) {
			t.Fatalf("two answers for %q: %v %v, %v %v", v, typ, err, typ2, err2)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformedValue) || typ != "" {
				t.Fatalf("%q: %q %v", v, typ, err)
			}
			return
		}
		if len(v) != ValueLen || !strings.HasPrefix(v, typ.prefix()+"_test_") || v[ValueLen-checksumLen:] != checksum(v[:ValueLen-checksumLen]) {
			t.Fatalf("accepted %q as %s", v, typ)
		}
		if _, err := ParseValue(v, Production); err == nil {
			t.Fatalf("%q works in both stages", v)
		}
	})
}

// FuzzCursor decodes list cursors as sent (signed false), and cursors
// whose MAC is right for whatever they hold (signed true), which reaches
// the parsing behind the MAC.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(testCursorKey, listPosition{MID: "mid_123456", After: "key_01ARZ3NDEKTSV4RRFFQ69G5FAV"}), false)
	f.Add(encodeCursor(testCursorKey, listPosition{MID: "m", IncludeRevoked: true, After: "key_01ARZ3NDEKTSV4RRFFQ69G5FAV"}), false)
	f.Add("\x01\x00\x0amid_123456key_01ARZ3NDEKTSV4RRFFQ69G5FAV", true)
	f.Add("\x01\x01\xffm", true)
	f.Fuzz(func(t *testing.T, s string, signed bool) {
		if signed {
			s = base64.RawURLEncoding.EncodeToString(append([]byte(s), cursorMAC(testCursorKey, []byte(s))...))
		}
		p, err := decodeCursor(testCursorKey, s)
		p2, err2 := decodeCursor(testCursorKey, s)
		if p != p2 || (err == nil) != (err2 == nil) {
			t.Fatalf("two answers for %q: %+v %v, %+v %v", s, p, err, p2, err2)
		}
		if err != nil {
			return
		}
		if !ValidMID(p.MID) || !ValidID(p.After) {
			t.Fatalf("accepted %q as %+v", s, p)
		}
		if again, err := decodeCursor(testCursorKey, encodeCursor(testCursorKey, p)); err != nil || again != p {
			t.Fatalf("%+v does not survive a round trip: %+v %v", p, again, err)
		}
	})
}

func FuzzIdempotencyKey(f *testing.F) {
	f.Add("5c1f8d2e-order-42")
	f.Add(strings.Repeat("k", MaxIdempotencyKeyLen))
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidIdempotencyKey(s)
		if ok != ValidIdempotencyKey(s) {
			t.Fatalf("two answers for %q", s)
		}
		if ok && (len(s) == 0 || len(s) > MaxIdempotencyKeyLen || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e })) {
			t.Fatalf("accepted %q", s)
		}
	})
}

// FuzzCreateRequest validates create bodies decoded as the route decodes
// them (numbers kept as json.Number).
func FuzzCreateRequest(f *testing.F) {
	f.Add([]byte(`{"mid":"mid_123456","name":"My API Key","type":"secret","scopes":["customers:read","charges:read"]}`))
	f.Add([]byte(`{"mid":"m","name":"n","type":"tokenization","scopes":["tokenize"],"expires_at":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"mid":1,"name":["x"],"type":null,"scopes":["charges:read",1],"expires_at":1e400}`))
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var obj map[string]any
		if dec.Decode(&obj) != nil {
			return
		}
		r := CreateRequest{MID: obj["mid"], Name: obj["name"], Type: obj["type"], Scopes: obj["scopes"], ExpiresAt: obj["expires_at"]}
		in, err := r.Validate(now)
		in2, err2 := r.Validate(now)
		if !reflect.DeepEqual(in, in2) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("two answers for %s: %+v %v, %+v %v", body, in, err, in2, err2)
		}
		var ve *ValidationError
		if err != nil {
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("%s: %v", body, err)
			}
			return
		}
		if !ValidMID(in.MID) || !validName(in.Name) || !in.Type.Valid() || (in.Scopes != nil && !allowedFor(in.Type, in.Scopes)) ||
			(in.ExpiresAt != nil && (!in.ExpiresAt.After(now) || in.ExpiresAt.Sub(now) > MaxLifetime)) {
			t.Fatalf("accepted %s as %+v", body, in)
		}
	})
}
