package apikey

import (
	"context"
	"time"

	"github.com/flexfactor/credplane/pkg/audit"
)

// Sealed is a value encrypted under a fresh data key (envelope encryption):
// the data key encrypted by the key service, the AES-GCM nonce, and the
// ciphertext. It is opaque to the domain.
type Sealed struct {
	EncryptedKey []byte
	Nonce        []byte
	Ciphertext   []byte
}

// Sealer encrypts and decrypts small values bound to an encryption context;
// opening with a different context fails.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, encCtx map[string]string) (Sealed, error)
	Open(ctx context.Context, s Sealed, encCtx map[string]string) ([]byte, error)
}

// EncryptionContext binds a sealed value to its merchant and key id.
func EncryptionContext(mid, keyID string) map[string]string {
	return map[string]string{"mid": mid, "key_id": keyID}
}

// NewKey is everything written when a key is created, in one transaction:
// the record, the unique digest lookup, and the sealed value (which expires
// at SealedExpiresAt when set).
type NewKey struct {
	Key             Key
	Digest          Digest
	Sealed          Sealed
	SealedExpiresAt *time.Time
	// Claim, when set, is the idempotency claim the same transaction
	// completes; a claim lost meanwhile fails it with ErrIdempotencyInFlight.
	Claim *IdempotencyClaim
	// Event, when set, is the audit event the same transaction appends.
	Event *audit.Event
}

// Store persists keys. CreateKey is all-or-nothing and returns
// ErrDuplicateDigest when the digest already exists.
type Store interface {
	CreateKey(ctx context.Context, k NewKey) error
	LifecycleStore
	IdempotencyStore
	LeakStore
	OnboardingStore
}

// Onboarding is a merchant's first key pair, written in one transaction
// with the merchant's onboarding claim.
type Onboarding struct {
	Public NewKey
	Secret NewKey
	// Seen is the secret key id the claim held when it was read; "" when
	// the merchant had none. The write moves the claim from Seen to Secret.
	Seen string
	// Event is the audit event the same transaction appends.
	Event *audit.Event
}

// OnboardingStore keeps one onboarding claim per merchant: the id of the
// secret key its last onboarding issued. Moving the claim is what makes
// concurrent onboardings of a merchant issue one pair, not several.
type OnboardingStore interface {
	// OnboardingClaim reads the merchant's claim with a strongly
	// consistent read; "" when it has none.
	OnboardingClaim(ctx context.Context, mid string) (string, error)
	// Onboard writes both keys (record, digest lookup and sealed value
	// each) and moves the claim to o.Secret's id, all or nothing. It
	// returns ErrConflict when the claim no longer holds o.Seen, and
	// ErrDuplicateDigest when a digest already exists.
	Onboard(ctx context.Context, o Onboarding) error
}
