// Package tokentest provides an in-memory ES256 signer for tests that issue
// or verify access tokens without a key service (like net/http/httptest).
package tokentest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/flexfactor/credplane/pkg/token"
)

// KeyID is the kid of every Signer.
const KeyID = "kid-1"

// Signer is a token.Signer holding a P-256 key in memory.
type Signer struct{ Key *ecdsa.PrivateKey }

var _ token.Signer = (*Signer)(nil)

// NewSigner returns a Signer with a fresh key.
func NewSigner(t testing.TB) *Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{Key: key}
}

// KeyID returns the kid of the tokens it signs.
func (s *Signer) KeyID() string { return KeyID }

// SignDigest returns an ASN.1 DER signature of the digest, as KMS does.
func (s *Signer) SignDigest(_ context.Context, digest []byte) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, s.Key, digest)
}

// Keys is a token.KeySource serving the signer's public key.
func (s *Signer) Keys(context.Context) (token.KeySet, error) {
	return token.KeySet{KeyID: &s.Key.PublicKey}, nil
}
