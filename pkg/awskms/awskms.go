// Package awskms adapts AWS KMS to the domain's ports: envelope encryption
// of key values (apikey.Sealer) and ES256 signing of tokens (token.Signer).
package awskms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awserr"
	"github.com/flexfactor/credplane/pkg/token"
)

// Client is the subset of the KMS API the adapters call. They make every
// call through awserr.Call, so a throttle, timeout or outage reaches the
// domain as apikey.ErrUnavailable.
type Client interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
	Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

// Envelope seals values with a fresh AES-256 data key per value, generated
// by KMS under a symmetric key and bound to an encryption context.
type Envelope struct {
	Client Client
	KeyID  string
}

var _ apikey.Sealer = (*Envelope)(nil)

// Seal encrypts plaintext with AES-256-GCM under a new data key; the
// plaintext data key is wiped before returning.
func (e *Envelope) Seal(ctx context.Context, plaintext []byte, encCtx map[string]string) (apikey.Sealed, error) {
	dk, err := awserr.Call(ctx, e.Client.GenerateDataKey, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(e.KeyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: encCtx,
	})
	if err != nil {
		return apikey.Sealed{}, fmt.Errorf("generate data key: %w", err)
	}
	defer clear(dk.Plaintext)
	gcm, err := newGCM(dk.Plaintext)
	if err != nil {
		return apikey.Sealed{}, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return apikey.Sealed{}, fmt.Errorf("nonce: %w", err)
	}
	return apikey.Sealed{
		EncryptedKey: dk.CiphertextBlob,
		Nonce:        nonce,
		Ciphertext:   gcm.Seal(nil, nonce, plaintext, nil),
	}, nil
}

// Open decrypts the data key with the same encryption context (KMS refuses
// any other) and then the value.
func (e *Envelope) Open(ctx context.Context, sealed apikey.Sealed, encCtx map[string]string) ([]byte, error) {
	dk, err := awserr.Call(ctx, e.Client.Decrypt, &kms.DecryptInput{
		KeyId:             aws.String(e.KeyID),
		CiphertextBlob:    sealed.EncryptedKey,
		EncryptionContext: encCtx,
	})
	if err != nil {
		return nil, fmt.Errorf("decrypt data key: %w", err)
	}
	defer clear(dk.Plaintext)
	gcm, err := newGCM(dk.Plaintext)
	if err != nil {
		return nil, err
	}
	out, err := gcm.Open(nil, sealed.Nonce, sealed.Ciphertext, nil)
	if err != nil {
		return nil, errors.New("open sealed value: authentication failed")
	}
	return out, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return cipher.NewGCM(block)
}

// Signer signs token digests with an ECC_NIST_P256 KMS key.
type Signer struct {
	Client Client
	// KeyARN is the KMS key id or ARN; it is also the JWT kid.
	KeyARN string
}

var _ token.Signer = (*Signer)(nil)

// KeyID returns the kid of tokens signed by this key.
func (s *Signer) KeyID() string { return s.KeyARN }

// SignDigest signs a SHA-256 digest; KMS returns an ASN.1 DER signature.
func (s *Signer) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	out, err := awserr.Call(ctx, s.Client.Sign, &kms.SignInput{
		KeyId:            aws.String(s.KeyARN),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, fmt.Errorf("kms sign: %w", err)
	}
	return out.Signature, nil
}

// PublicKeys returns a token.KeySource that fetches the public half of each
// signing key with GetPublicKey, keyed by kid. Several keys allow a rotation:
// tokens signed by any key in the set verify.
func PublicKeys(c Client, keyARNs ...string) token.KeySource {
	return func(ctx context.Context) (token.KeySet, error) {
		set := token.KeySet{}
		for _, id := range keyARNs {
			out, err := awserr.Call(ctx, c.GetPublicKey, &kms.GetPublicKeyInput{KeyId: aws.String(id)})
			if err != nil {
				return nil, fmt.Errorf("kms get public key: %w", err)
			}
			pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
			if err != nil {
				return nil, fmt.Errorf("parse public key: %w", err)
			}
			ec, ok := pub.(*ecdsa.PublicKey)
			if !ok || ec.Curve.Params().Name != "P-256" {
				return nil, errors.New("signing key is not ECDSA P-256")
			}
			set[id] = ec
		}
		return set, nil
	}
}
