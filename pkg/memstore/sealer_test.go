package memstore_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/memstore"
)

var bg = context.Background()

func TestSealerOpensWithTheContextItSealedWith(t *testing.T) {
	var s memstore.Sealer
	encCtx := apikey.EncryptionContext("mid_1", "key_1")
	sealed, err := s.Seal(bg, []byte("pk_test_value"), encCtx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed.EncryptedKey) == 0 || len(sealed.Nonce) == 0 || bytes.Contains(sealed.Ciphertext, []byte("pk_test_value")) {
		t.Fatalf("sealed %+v", sealed)
	}
	got, err := s.Open(bg, sealed, apikey.EncryptionContext("mid_1", "key_1"))
	if err != nil || string(got) != "pk_test_value" {
		t.Fatalf("open = %q, %v", got, err)
	}
	again, _ := s.Seal(bg, []byte("pk_test_value"), encCtx)
	if bytes.Equal(again.EncryptedKey, sealed.EncryptedKey) || bytes.Equal(again.Ciphertext, sealed.Ciphertext) {
		t.Fatal("two seals of one value are alike: no fresh data key or nonce")
	}
}

func TestSealerRefuses(t *testing.T) {
	var s memstore.Sealer
	encCtx := apikey.EncryptionContext("mid_1", "key_1")
	sealed, err := s.Seal(bg, []byte("tk_test_value"), encCtx)
	if err != nil {
		t.Fatal(err)
	}
	tampered := func(part func(*apikey.Sealed) []byte) apikey.Sealed {
		c := apikey.Sealed{EncryptedKey: bytes.Clone(sealed.EncryptedKey), Nonce: bytes.Clone(sealed.Nonce), Ciphertext: bytes.Clone(sealed.Ciphertext)}
		part(&c)[0] ^= 1
		return c
	}
	cases := []struct {
		name   string
		sealer *memstore.Sealer
		sealed apikey.Sealed
		encCtx map[string]string
	}{
		{"another merchant", &s, sealed, apikey.EncryptionContext("mid_2", "key_1")},
		{"another key", &s, sealed, apikey.EncryptionContext("mid_1", "key_2")},
		{"an extra entry", &s, sealed, map[string]string{"mid": "mid_1", "key_id": "key_1", "x": ""}},
		{"no context", &s, sealed, nil},
		{"another sealer", &memstore.Sealer{}, sealed, encCtx},
		{"an altered data key", &s, tampered(func(c *apikey.Sealed) []byte { return c.EncryptedKey }), encCtx},
		{"an altered nonce", &s, tampered(func(c *apikey.Sealed) []byte { return c.Nonce }), encCtx},
		{"an altered ciphertext", &s, tampered(func(c *apikey.Sealed) []byte { return c.Ciphertext }), encCtx},
		{"a truncated data key", &s, apikey.Sealed{EncryptedKey: sealed.EncryptedKey[:4], Nonce: sealed.Nonce, Ciphertext: sealed.Ciphertext}, encCtx},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := c.sealer.Open(bg, c.sealed, c.encCtx); err == nil {
				t.Fatalf("opened %q", got)
			}
		})
	}
}
