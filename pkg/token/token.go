// Package token issues and verifies access tokens: ES256 JWTs (RFC 9068,
// typ at+jwt) whose private key never leaves the key service. It imports no
// AWS SDK: signing goes through the Signer port.
package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oklog/ulid/v2"
)

// TTL is the life of an access token (upstream: 600 s).
const TTL = 600 * time.Second

// Type is the JOSE typ header of access tokens (RFC 9068).
const Type = "at+jwt"

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	// ClientID is the id of the public key the token was minted with.
	ClientID string `json:"client_id"`
	// MID is the merchant the token acts for.
	MID string `json:"mid"`
	// Scope is the space-separated list of granted scopes.
	Scope string `json:"scope"`
	// AuthTime is when the key pair behind the token was presented (RFC 9068
	// §2.2.1); refreshed tokens keep the time of the original exchange.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	// KeyGen and ClientGen are the generations of the secret (sub) and
	// public (client_id) key values the token was minted from; a roll makes
	// them stale.
	KeyGen    int64 `json:"key_gen"`
	ClientGen int64 `json:"client_gen"`
}

// Signer signs SHA-256 digests with an ECDSA P-256 key held elsewhere.
type Signer interface {
	// KeyID names the signing key; it becomes the JWT kid.
	KeyID() string
	// SignDigest returns an ASN.1 DER ECDSA signature of the digest.
	SignDigest(ctx context.Context, digest []byte) ([]byte, error)
}

// Subject is who a token is issued to.
type Subject struct {
	SecretKeyID string
	PublicKeyID string
	// SecretGen and PublicGen are the generations of the two key values.
	SecretGen int64
	PublicGen int64
	MID       string
	Scopes    string // space-separated
	// AuthTime is when the key pair was presented; zero means now.
	AuthTime time.Time
	// NotAfter, when set, ends the token earlier than TTL: a key value in
	// its grace period after a roll mints no token that outlives it.
	NotAfter *time.Time
}

// Issued is a signed access token.
type Issued struct {
	Token     string
	ID        string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Issuer mints access tokens.
type Issuer struct {
	Signer   Signer
	Issuer   string
	Audience string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Issue signs an access token for the subject.
func (i *Issuer) Issue(ctx context.Context, s Subject) (Issued, error) {
	now := time.Now()
	if i.Now != nil {
		now = i.Now()
	}
	now = now.UTC().Truncate(time.Second)
	exp := now.Add(TTL)
	if s.NotAfter != nil && s.NotAfter.Before(exp) {
		exp = s.NotAfter.UTC().Truncate(time.Second)
	}
	authTime := now
	if !s.AuthTime.IsZero() {
		authTime = s.AuthTime.UTC().Truncate(time.Second)
	}
	jti := ulid.MustNew(ulid.Timestamp(now), rand.Reader).String()
	t := jwt.NewWithClaims(signingMethod{}, Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.Issuer,
			Subject:   s.SecretKeyID,
			Audience:  jwt.ClaimStrings{i.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		ClientID:  s.PublicKeyID,
		MID:       s.MID,
		Scope:     s.Scopes,
		AuthTime:  jwt.NewNumericDate(authTime),
		KeyGen:    s.SecretGen,
		ClientGen: s.PublicGen,
	})
	t.Header["typ"] = Type
	t.Header["kid"] = i.Signer.KeyID()
	signed, err := t.SignedString(signingKey{ctx: ctx, signer: i.Signer})
	if err != nil {
		return Issued{}, err
	}
	return Issued{Token: signed, ID: jti, IssuedAt: now, ExpiresAt: exp}, nil
}

// signingMethod is ES256 computed by a remote Signer. It is deliberately not
// registered with jwt, so parsing always uses the library's own ES256.
type signingMethod struct{}

type signingKey struct {
	ctx    context.Context
	signer Signer
}

func (signingMethod) Alg() string { return "ES256" }

func (signingMethod) Verify(string, []byte, any) error {
	return errors.New("token: the remote signing method does not verify")
}

func (signingMethod) Sign(signingString string, key any) ([]byte, error) {
	k, ok := key.(signingKey)
	if !ok {
		return nil, jwt.ErrInvalidKeyType
	}
	h := jwt.SigningMethodES256.Hash.New()
	h.Write([]byte(signingString))
	der, err := k.signer.SignDigest(k.ctx, h.Sum(nil))
	if err != nil {
		return nil, err
	}
	return derToJOSE(der)
}

// derToJOSE converts an ASN.1 DER ECDSA signature to the fixed 64-byte r||s
// form JWS requires (RFC 7518 §3.4).
func derToJOSE(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil {
		return nil, fmt.Errorf("token: malformed DER signature")
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 256 || sig.S.BitLen() > 256 {
		return nil, fmt.Errorf("token: signature out of range")
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

// KeySet holds the public keys that verify tokens, by kid.
type KeySet map[string]*ecdsa.PublicKey
