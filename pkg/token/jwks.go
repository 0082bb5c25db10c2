package token

import (
	"encoding/base64"
	"slices"
)

// JWK is the public half of a signing key as a JSON Web Key (RFC 7517,
// RFC 7518 §6.2).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// JWKs returns the set as JSON Web Keys, ordered by kid so that the
// document is stable. Coordinates are the fixed 32-byte big-endian form.
func (ks KeySet) JWKs() []JWK {
	kids := make([]string, 0, len(ks))
	for kid := range ks {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	out := make([]JWK, 0, len(kids))
	for _, kid := range kids {
		// Bytes is the uncompressed point 0x04 || X || Y (SEC 1).
		raw, err := ks[kid].Bytes()
		if err != nil || len(raw) != 65 {
			continue // not a P-256 key: the key source never yields one
		}
		out = append(out, JWK{
			Kty: "EC",
			Crv: "P-256",
			X:   base64.RawURLEncoding.EncodeToString(raw[1:33]),
			Y:   base64.RawURLEncoding.EncodeToString(raw[33:]),
			Kid: kid,
			Use: "sig",
			Alg: "ES256",
		})
	}
	return out
}
