package apikey

import (
	"encoding/base64"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, p := range []listPosition{
		{MID: "mid_123456", After: NewID(now)},
		{MID: "3f1c2a9e-8c1b-4b7e-9a59-1f0d2c3b4a5e", IncludeRevoked: true, After: NewID(now)},
	} {
		got, err := decodeCursor(testCursorKey, encodeCursor(testCursorKey, p))
		if err != nil || got != p {
			t.Fatalf("round trip of %+v: %+v, %v", p, got, err)
		}
	}
}

func TestCursorDetectsEveryAlteration(t *testing.T) {
	p := listPosition{MID: "mid_123456", After: NewID(now)}
	c := encodeCursor(testCursorKey, p)
	raw, _ := base64.RawURLEncoding.DecodeString(c)
	for i := range raw {
		for _, bit := range []byte{0x01, 0x80} {
			b := append([]byte(nil), raw...)
			b[i] ^= bit
			if _, err := decodeCursor(testCursorKey, base64.RawURLEncoding.EncodeToString(b)); err == nil {
				t.Fatalf("byte %d ^ %#x accepted", i, bit)
			}
		}
	}
	for name, bad := range map[string]string{
		"empty":         "",
		"truncated":     c[:len(c)-1],
		"shortened":     c[:len(c)-4],
		"extended":      c + "AA",
		"not base64url": c[:10] + "+/" + c[12:],
		"other key":     encodeCursor([]byte("another key of at least 32 bytes!!"), p),
		"padding":       c + "=",
	} {
		if _, err := decodeCursor(testCursorKey, bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
