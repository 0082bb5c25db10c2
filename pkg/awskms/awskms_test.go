package awskms_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"os"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/infra/localenv"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/token"
	"github.com/golang-jwt/jwt/v5"
)

var env *localenv.Env

func TestMain(m *testing.M) {
	os.Exit(localenv.Main(m, func(e *localenv.Env) { env = e }))
}

func envelope() *awskms.Envelope {
	return &awskms.Envelope{Client: env.Clients.KMS, KeyID: env.Config.DataKeyID}
}

func TestSealOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	secret := []byte("sk_test_abcdefghijklmnopqrstuvwxyz0123456789")
	ec := apikey.EncryptionContext("mid_1", "key_1")
	s, err := envelope().Seal(ctx, secret, ec)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Ciphertext, secret) || bytes.Contains(s.EncryptedKey, secret) || len(s.Nonce) != 12 {
		t.Fatal("sealed value is not encrypted")
	}
	got, err := envelope().Open(ctx, s, ec)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := envelope().Seal(ctx, secret, ec)
	if bytes.Equal(again.Ciphertext, s.Ciphertext) || bytes.Equal(again.EncryptedKey, s.EncryptedKey) {
		t.Fatal("two seals of one value share a data key or ciphertext")
	}
}

func TestOpenRefusesAnotherContext(t *testing.T) {
	ctx := context.Background()
	s, err := envelope().Seal(ctx, []byte("secret"), apikey.EncryptionContext("mid_1", "key_1"))
	if err != nil {
		t.Fatal(err)
	}
	for name, ec := range map[string]map[string]string{
		"other key id": apikey.EncryptionContext("mid_1", "key_2"),
		"other mid":    apikey.EncryptionContext("mid_2", "key_1"),
		"no context":   nil,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := envelope().Open(ctx, s, ec)
			if err == nil || got != nil {
				t.Fatalf("opened with %v: %q", ec, got)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the value: %v", err)
			}
		})
	}
	tampered := s
	tampered.Ciphertext = append([]byte{}, s.Ciphertext...)
	tampered.Ciphertext[0] ^= 1
	if _, err := envelope().Open(ctx, tampered, apikey.EncryptionContext("mid_1", "key_1")); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	signer := &awskms.Signer{Client: env.Clients.KMS, KeyARN: env.Config.SigningKeyID}
	keys, err := awskms.PublicKeys(env.Clients.KMS, env.Config.SigningKeyID)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pub := keys[env.Config.SigningKeyID]
	digest := sha256.Sum256([]byte("payload"))
	der, err := signer.SignDigest(ctx, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(pub, digest[:], der) {
		t.Fatal("KMS signature does not verify with the KMS public key")
	}
	other := sha256.Sum256([]byte("other"))
	if ecdsa.VerifyASN1(pub, other[:], der) {
		t.Fatal("signature verifies another digest")
	}

	// Through the token package: a JWT signed by KMS verifies with the
	// library's own ES256 and the public key, and with our Verifier.
	iss := &token.Issuer{Signer: signer, Issuer: "iss", Audience: "aud"}
	tok, err := iss.Issue(ctx, token.Subject{SecretKeyID: "key_s", PublicKeyID: "key_p", MID: "mid_1", Scopes: "a b"})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.Parse(tok.Token, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"ES256"}))
	if err != nil || !parsed.Valid {
		t.Fatalf("stock ES256 verification: %v", err)
	}
	v := &token.Verifier{Issuer: "iss", Audience: "aud", Keys: awskms.PublicKeys(env.Clients.KMS, env.Config.SigningKeyID)}
	c, err := v.Verify(ctx, tok.Token)
	if err != nil || c.MID != "mid_1" || c.Subject != "key_s" || c.ClientID != "key_p" || c.Scope != "a b" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
}
