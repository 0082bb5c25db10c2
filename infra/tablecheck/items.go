package tablecheck

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The item kinds of the table, by partition key prefix and sort key, as
// pkg/dynamostore writes them (its store.go documents the layout).
const (
	KindRecord  = "key record"       // KEY#<id> / META
	KindValue   = "sealed value"     // KEY#<id> / VALUE
	KindDigest  = "digest lookup"    // DIGEST#<hex> / DIGEST
	KindRefresh = "refresh token"    // REFRESH#<hex> / REFRESH
	KindFamily  = "revoked family"   // FAMILY#<id> / REVOKED
	KindIdem    = "idempotency"      // IDEM#<mid>#<key id>#<hex> / IDEM
	KindOnboard = "onboarding claim" // MID#<mid> / ONBOARD
	KindRate    = "token count"      // RATE#<secret key id>#<minute> / RATE
	KindUnknown = "unknown"
)

// The stored layout, spelt out here rather than imported: the checker is a
// second reading of what pkg/dynamostore writes, not the adapter's own.
const (
	pfxKey      = "KEY#"
	pfxDigest   = "DIGEST#"
	pfxRefresh  = "REFRESH#"
	pfxFamily   = "FAMILY#"
	pfxIdem     = "IDEM#"
	pfxMID      = "MID#"
	pfxRate     = "RATE#"
	skRate      = "RATE"
	skMeta      = "META"
	skValue     = "VALUE"
	skDigest    = "DIGEST"
	skRefresh   = "REFRESH"
	skRevoked   = "REVOKED"
	skIdem      = "IDEM"
	skOnboard   = "ONBOARD"
	attrGSI1PK  = "gsi1pk"
	idemPending = "pending"
	idemDone    = "done"
	digestLen   = 32
	// abbreviation is how many hex digits of a digest a report shows.
	abbreviation = 12
)

// Kinds lists the item kinds in the order reports show them.
var Kinds = []string{KindRecord, KindValue, KindDigest, KindRefresh, KindFamily, KindIdem, KindOnboard, KindRate, KindUnknown}

// Ref names one item by its primary key.
type Ref struct{ PK, SK string }

// String is the item's key with any hex digest in it shortened: digests of
// key values and tokens stay out of the checker's output.
func (r Ref) String() string {
	parts := strings.Split(r.PK, "#")
	for i, p := range parts {
		if len(p) == 2*digestLen && isHex(p) {
			parts[i] = p[:abbreviation] + "…"
		}
	}
	return strings.Join(parts, "#") + " / " + r.SK
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// Item is a raw table item.
type Item = map[string]types.AttributeValue

// kindOf classifies an item by its key.
func kindOf(r Ref) string {
	switch {
	case strings.HasPrefix(r.PK, pfxKey) && r.SK == skMeta:
		return KindRecord
	case strings.HasPrefix(r.PK, pfxKey) && r.SK == skValue:
		return KindValue
	case strings.HasPrefix(r.PK, pfxDigest) && r.SK == skDigest:
		return KindDigest
	case strings.HasPrefix(r.PK, pfxRefresh) && r.SK == skRefresh:
		return KindRefresh
	case strings.HasPrefix(r.PK, pfxFamily) && r.SK == skRevoked:
		return KindFamily
	case strings.HasPrefix(r.PK, pfxIdem) && r.SK == skIdem:
		return KindIdem
	case strings.HasPrefix(r.PK, pfxMID) && r.SK == skOnboard:
		return KindOnboard
	case strings.HasPrefix(r.PK, pfxRate) && r.SK == skRate:
		return KindRate
	}
	return KindUnknown
}

// refOf reads an item's key; ok is false when pk or sk is not a string.
func refOf(it Item) (Ref, bool) {
	var k struct {
		PK string `dynamodbav:"pk"`
		SK string `dynamodbav:"sk"`
	}
	if err := attributevalue.UnmarshalMap(it, &k); err != nil || k.PK == "" || k.SK == "" {
		return Ref{}, false
	}
	return Ref{k.PK, k.SK}, true
}

// keyRecord is KEY#<id> / META. Pointers tell absent from zero.
type keyRecord struct {
	ref                Ref
	GSI1PK             string   `dynamodbav:"gsi1pk"`
	GSI1SK             string   `dynamodbav:"gsi1sk"`
	ID                 string   `dynamodbav:"id"`
	MID                string   `dynamodbav:"mid"`
	Name               string   `dynamodbav:"name"`
	Type               string   `dynamodbav:"type"`
	Scopes             []string `dynamodbav:"scopes"`
	Revoked            *bool    `dynamodbav:"revoked"`
	RevokedAt          string   `dynamodbav:"revoked_at"`
	CreatedAt          string   `dynamodbav:"created_at"`
	ExpiresAt          string   `dynamodbav:"expires_at"`
	LastFour           string   `dynamodbav:"last_four"`
	Digest             []byte   `dynamodbav:"digest"`
	PreviousDigest     []byte   `dynamodbav:"previous_digest"`
	RolledAt           string   `dynamodbav:"rolled_at"`
	PreviousValidUntil string   `dynamodbav:"previous_valid_until"`
	Generation         *int64   `dynamodbav:"generation"`
}

// generation is the current value's generation.
func (k *keyRecord) generation() int64 { return generationOf(k.Generation) }

func (k *keyRecord) revoked() bool { return k.Revoked != nil && *k.Revoked }

// digestItem is DIGEST#<hex> / DIGEST: the lookup of one key value.
type digestItem struct {
	ref        Ref
	Digest     []byte   `dynamodbav:"digest"`
	KeyID      string   `dynamodbav:"key_id"`
	MID        string   `dynamodbav:"mid"`
	Type       string   `dynamodbav:"type"`
	Scopes     []string `dynamodbav:"scopes"`
	Generation *int64   `dynamodbav:"generation"`
	ExpiresAt  string   `dynamodbav:"expires_at"`
	ValidUntil string   `dynamodbav:"valid_until"`
	TTL        *int64   `dynamodbav:"ttl"`
}

func (d *digestItem) generation() int64 { return generationOf(d.Generation) }

// generationOf reads a stored generation; an item written before
// generations were kept counts as the first.
func generationOf(g *int64) int64 {
	if g == nil {
		return 1
	}
	return *g
}

// sealedValue is KEY#<id> / VALUE: a KMS-sealed key value.
type sealedValue struct {
	ref          Ref
	EncryptedKey []byte `dynamodbav:"edk"`
	Nonce        []byte `dynamodbav:"nonce"`
	Ciphertext   []byte `dynamodbav:"ct"`
	TTL          *int64 `dynamodbav:"ttl"`
	ExpiresAt    string `dynamodbav:"expires_at"`
}

// refreshItem is REFRESH#<hex> / REFRESH. A revocation that found the
// record already swept by its TTL leaves a stub with only revoked_at and
// ttl.
type refreshItem struct {
	ref         Ref
	Family      string `dynamodbav:"family"`
	SecretKeyID string `dynamodbav:"secret_key_id"`
	PublicKeyID string `dynamodbav:"public_key_id"`
	MID         string `dynamodbav:"mid"`
	Scope       string `dynamodbav:"scope"`
	SecretGen   *int64 `dynamodbav:"secret_gen"`
	PublicGen   *int64 `dynamodbav:"public_gen"`
	AuthTime    string `dynamodbav:"auth_time"`
	IssuedAt    string `dynamodbav:"issued_at"`
	ExpiresAt   string `dynamodbav:"expires_at"`
	ValidUntil  string `dynamodbav:"valid_until"`
	RotatedAt   string `dynamodbav:"rotated_at"`
	RevokedAt   string `dynamodbav:"revoked_at"`
	// WithdrawnAt marks a token whose issue was withdrawn: never handed
	// out, it belongs to no family's story.
	WithdrawnAt string `dynamodbav:"withdrawn_at"`
	TTL         *int64 `dynamodbav:"ttl"`
}

func (r *refreshItem) stub() bool {
	return r.Family == "" && r.SecretKeyID == "" && r.PublicKeyID == "" && r.MID == "" && r.RevokedAt != ""
}

// head reports whether the token can still be rotated: neither rotated
// nor revoked.
func (r *refreshItem) head() bool { return r.RotatedAt == "" && r.RevokedAt == "" }

// familyMarker is FAMILY#<id> / REVOKED.
type familyMarker struct {
	ref       Ref
	RevokedAt string `dynamodbav:"revoked_at"`
	TTL       *int64 `dynamodbav:"ttl"`
}

// idemItem is IDEM#<mid>#<calling key id>#<hex> / IDEM.
type idemItem struct {
	ref         Ref
	MID         string `dynamodbav:"mid"`
	CallerKeyID string `dynamodbav:"caller_key_id"`
	Fingerprint []byte `dynamodbav:"fingerprint"`
	State       string `dynamodbav:"state"`
	Claim       string `dynamodbav:"claim"`
	LockedUntil *int64 `dynamodbav:"locked_until"`
	CreatedAt   string `dynamodbav:"created_at"`
	KeyID       string `dynamodbav:"key_id"`
	TTL         *int64 `dynamodbav:"ttl"`
}

// onboardClaim is MID#<mid> / ONBOARD.
type onboardClaim struct {
	ref         Ref
	SecretKeyID string `dynamodbav:"secret_key_id"`
	PublicKeyID string `dynamodbav:"public_key_id"`
	OnboardedAt string `dynamodbav:"onboarded_at"`
}

// parseTime reads an RFC 3339 attribute; ok is false when it is set but
// unreadable. Absent is the zero time, ok.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// decode unmarshals an item into v (a pointer to one of the structs above).
func decode(it Item, v any) error {
	if err := attributevalue.UnmarshalMap(it, v); err != nil {
		return fmt.Errorf("attributes do not decode: %w", err)
	}
	return nil
}

// rateCount is RATE#<secret key id>#<minute> / RATE: the tokens a key
// obtained in one minute (the token rate limit).
type rateCount struct {
	ref   Ref
	Count int64  `dynamodbav:"count"`
	TTL   *int64 `dynamodbav:"ttl"`
}
