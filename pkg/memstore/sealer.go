package memstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/flexfactor/credplane/pkg/apikey"
)

// Sealer is an in-memory apikey.Sealer shaped like the KMS envelope: each
// value gets a fresh AES-256 data key, and the data key is sealed under a
// random master key with the encryption context as additional data, so a
// value opens only with the context it was sealed with (and only by the
// Sealer that sealed it). The zero value is ready; safe for concurrent use.
type Sealer struct {
	once   sync.Once
	master cipher.AEAD
}

var _ apikey.Sealer = (*Sealer)(nil)

func (s *Sealer) init() {
	s.once.Do(func() { s.master = newGCM(randomBytes(32)) })
}

// Seal encrypts plaintext under a new data key bound to encCtx.
func (s *Sealer) Seal(_ context.Context, plaintext []byte, encCtx map[string]string) (apikey.Sealed, error) {
	s.init()
	dk := randomBytes(32)
	defer clear(dk)
	keyNonce := randomBytes(s.master.NonceSize())
	nonce := randomBytes(s.master.NonceSize())
	return apikey.Sealed{
		EncryptedKey: s.master.Seal(keyNonce, keyNonce, dk, contextData(encCtx)),
		Nonce:        nonce,
		Ciphertext:   newGCM(dk).Seal(nil, nonce, plaintext, nil),
	}, nil
}

// Open decrypts the data key with encCtx, then the value; any other
// context, or a value sealed elsewhere, fails.
func (s *Sealer) Open(_ context.Context, sealed apikey.Sealed, encCtx map[string]string) ([]byte, error) {
	s.init()
	n := s.master.NonceSize()
	if len(sealed.EncryptedKey) < n {
		return nil, errors.New("open sealed value: malformed data key")
	}
	dk, err := s.master.Open(nil, sealed.EncryptedKey[:n], sealed.EncryptedKey[n:], contextData(encCtx))
	if err != nil {
		return nil, errors.New("open sealed value: the data key does not open with this encryption context")
	}
	defer clear(dk)
	if len(sealed.Nonce) != n {
		return nil, errors.New("open sealed value: malformed nonce")
	}
	out, err := newGCM(dk).Open(nil, sealed.Nonce, sealed.Ciphertext, nil)
	if err != nil {
		return nil, errors.New("open sealed value: authentication failed")
	}
	return out, nil
}

// contextData encodes an encryption context canonically: its entries in
// key order, each string behind its length, so two contexts encode alike
// only when they are equal. No context and an empty one are the same, as
// in KMS.
func contextData(encCtx map[string]string) []byte {
	var b []byte
	for _, k := range slices.Sorted(maps.Keys(encCtx)) {
		for _, str := range []string{k, encCtx[k]} {
			b = binary.AppendUvarint(b, uint64(len(str)))
			b = append(b, str...)
		}
	}
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails: crypto/rand aborts the program instead
	return b
}

func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("memstore: " + err.Error()) // 32-byte keys only: cannot fail
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic("memstore: " + err.Error())
	}
	return gcm
}
