// Package leakdemo lets `make dev` show the leaked-key flow end to end on
// one machine: a development signing key stands in for GitHub's, the dev
// server serves its key document on loopback, and a small command signs a
// secret-scanning report with it, as GitHub would.
package leakdemo

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
)

// DefaultKeyPath is where the development key is kept (an ignored folder).
const DefaultKeyPath = ".local/dev-github-key.pem"

// LoadOrCreateKey reads the development P-256 key at path, creating it
// (readable by the owner only) when there is none.
func LoadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		return k, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM key", path)
	}
	return x509.ParseECPrivateKey(block.Bytes)
}

// KeyID names the key in the document: a digest of its public key.
func KeyID(k *ecdsa.PrivateKey) string {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	sum := sha256.Sum256(der)
	return "dev-" + hex.EncodeToString(sum[:8])
}

// Document is the key document in GitHub's shape, with k as the current key.
func Document(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"public_keys": []map[string]any{{
		"key_identifier": KeyID(k),
		"key":            string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		"is_current":     true,
	}}})
}

// Handler serves the key document.
func Handler(k *ecdsa.PrivateKey) (http.Handler, error) {
	doc, err := Document(k)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}), nil
}

// Report is one leaked token as GitHub reports it.
type Report struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// Sign returns the body of a report of the tokens and its two headers'
// values: the key identifier and the base64 ASN.1 signature of the body.
func Sign(k *ecdsa.PrivateKey, reports ...Report) (body []byte, keyID, signature string, err error) {
	if body, err = json.Marshal(reports); err != nil {
		return nil, "", "", err
	}
	if signature, err = SignBody(k, body); err != nil {
		return nil, "", "", err
	}
	return body, KeyID(k), signature, nil
}

// SignBody is the base64 ASN.1 ECDSA P-256 SHA-256 signature of body, as
// GitHub signs a report's raw bytes.
func SignBody(k *ecdsa.PrivateKey, body []byte) (string, error) {
	d := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, k, d[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
