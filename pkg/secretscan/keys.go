package secretscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultKeysURL is GitHub's document of secret-scanning signing keys.
const DefaultKeysURL = "https://api.github.com/meta/public_keys/secret_scanning"

// RefetchInterval is the least time between two fetches of the key
// document caused by unknown key identifiers.
const RefetchInterval = time.Minute

// ErrBadSignature covers every reason a report's signature is refused: a
// missing or malformed header, an unknown key identifier, a signature that
// does not verify.
var ErrBadSignature = errors.New("invalid secret-scanning signature")

// ErrKeysUnavailable: the key document could not be fetched; the report
// cannot be judged now (answered as a transient failure, GitHub retries).
var ErrKeysUnavailable = errors.New("secret-scanning keys unavailable")

// Verifier checks report signatures with the keys of the document at URL,
// cached per container: fetched on first use, and again, at most once per
// RefetchInterval, when an unknown identifier arrives.
type Verifier struct {
	URL    string
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	keys  map[string]*ecdsa.PublicKey
	tried time.Time // the last fetch attempt, successful or not
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify checks that sigB64 (base64 of an ASN.1 ECDSA P-256 SHA-256
// signature) signs body with the key named keyID.
func (v *Verifier) Verify(ctx context.Context, keyID, sigB64 string, body []byte) error {
	if keyID == "" || sigB64 == "" {
		return ErrBadSignature
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return ErrBadSignature
	}
	key, err := v.key(ctx, keyID)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(key, digest[:], sig) {
		return ErrBadSignature
	}
	return nil
}

// key returns the key named id, fetching the document when it is not
// cached and the last attempt is old enough.
func (v *Verifier) key(ctx context.Context, id string) (*ecdsa.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[id]; ok {
		return k, nil
	}
	now := v.now()
	if !v.tried.IsZero() && now.Sub(v.tried) < RefetchInterval {
		if v.keys == nil {
			return nil, ErrKeysUnavailable
		}
		return nil, ErrBadSignature
	}
	v.tried = now
	keys, err := v.fetch(ctx)
	switch {
	case err != nil && v.keys == nil:
		return nil, err
	case err != nil:
		return nil, ErrBadSignature // keep the cache; an unknown id stays unknown
	}
	v.keys = keys
	if k, ok := keys[id]; ok {
		return k, nil
	}
	return nil, ErrBadSignature
}

// keyDocument is GitHub's key document.
type keyDocument struct {
	PublicKeys []struct {
		KeyIdentifier string `json:"key_identifier"`
		Key           string `json:"key"`
		IsCurrent     bool   `json:"is_current"`
	} `json:"public_keys"`
}

// fetch reads and parses the key document; keys that do not parse as
// ECDSA public keys are skipped.
func (v *Verifier) fetch(ctx context.Context) (map[string]*ecdsa.PublicKey, error) {
	client := v.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: status %d", ErrKeysUnavailable, resp.StatusCode)
	}
	var doc keyDocument
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range doc.PublicKeys {
		if pk := parseKey(k.Key); pk != nil && k.KeyIdentifier != "" {
			keys[k.KeyIdentifier] = pk
		}
	}
	return keys, nil
}

func parseKey(p string) *ecdsa.PublicKey {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil
	}
	k, _ := pub.(*ecdsa.PublicKey)
	return k
}
