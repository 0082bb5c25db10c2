package dynamostore

import (
	"crypto/sha256"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

// The table's items, one struct for each kind, marshalled by the SDK's
// attributevalue package. Their attribute names and formats are those of
// every item already stored (testdata/items.golden): times are RFC 3339 UTC
// strings to the second (stamp), ttl is a number of epoch seconds, digests
// and sealed values are binary, generations are numbers. An optional
// attribute is omitempty, so that it is absent, as before, rather than NULL.

// key is an item's primary key.
type key struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
}

// av is the key as a request names an item.
func (k key) av() map[string]types.AttributeValue { return marshal(k) }

// indexKey is a key record's primary key and its key in the merchant index.
type indexKey struct {
	key
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
}

// keyRecord is a key's metadata (KEY#<id> / META), listed by merchant
// through gsi1 (MID#<mid> / <id>).
type keyRecord struct {
	indexKey
	ID     string      `dynamodbav:"id"`
	MID    string      `dynamodbav:"mid"`
	Name   string      `dynamodbav:"name"`
	Type   apikey.Type `dynamodbav:"type"`
	Scopes []string    `dynamodbav:"scopes"`
	// Revoked is written false at creation: conditions compare it.
	Revoked   bool   `dynamodbav:"revoked"`
	CreatedAt stamp  `dynamodbav:"created_at"`
	ExpiresAt *stamp `dynamodbav:"expires_at,omitempty"`
	LastFour  string `dynamodbav:"last_four"`
	// Digest is the current value's; Generation numbers it (absent on a
	// record written before generations were kept: the first).
	Digest     []byte `dynamodbav:"digest"`
	Generation int64  `dynamodbav:"generation"`
	// Written by exchanges, deletes and rolls.
	LastUsed           *stamp `dynamodbav:"last_used,omitempty"`
	RevokedAt          *stamp `dynamodbav:"revoked_at,omitempty"`
	RevokedReason      string `dynamodbav:"revoked_reason,omitempty"`
	RolledAt           *stamp `dynamodbav:"rolled_at,omitempty"`
	PreviousValidUntil *stamp `dynamodbav:"previous_valid_until,omitempty"`
	PreviousDigest     []byte `dynamodbav:"previous_digest,omitempty"`
}

func newKeyRecord(k apikey.Key, digest apikey.Digest) keyRecord {
	return keyRecord{
		indexKey:  indexKey{key: key{keyPK(k.ID), skMeta}, GSI1PK: midPK(k.MID), GSI1SK: k.ID},
		ID:        k.ID,
		MID:       k.MID,
		Name:      k.Name,
		Type:      k.Type,
		Scopes:    listOf(k.Scopes),
		CreatedAt: stamp(k.CreatedAt),
		ExpiresAt: stampOf(k.ExpiresAt),
		LastFour:  k.LastFour,
		Digest:    digest[:],
		// Generation as given: 0 is written as 0, and read back as the first.
		Generation: k.Generation,
	}
}

// apiKey is the record's metadata as the domain has it.
func (r keyRecord) apiKey() apikey.Key {
	k := apikey.Key{
		ID:                 r.ID,
		MID:                r.MID,
		Name:               r.Name,
		Type:               r.Type,
		Scopes:             r.Scopes,
		Revoked:            r.Revoked,
		CreatedAt:          time.Time(r.CreatedAt),
		ExpiresAt:          r.ExpiresAt.time(),
		LastUsed:           r.LastUsed.time(),
		RevokedAt:          r.RevokedAt.time(),
		RevokedReason:      r.RevokedReason,
		LastFour:           r.LastFour,
		RolledAt:           r.RolledAt.time(),
		PreviousValidUntil: r.PreviousValidUntil.time(),
		Generation:         generation(r.Generation),
	}
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	return k
}

// keyState is the standing of the key, from the attributes keyStateAttrs
// reads.
func (r keyRecord) keyState() auth.KeyState {
	return auth.KeyState{
		MID:                r.MID,
		Revoked:            r.Revoked,
		ExpiresAt:          r.ExpiresAt.time(),
		Generation:         generation(r.Generation),
		RolledAt:           r.RolledAt.time(),
		PreviousValidUntil: r.PreviousValidUntil.time(),
	}
}

// digestLookup is the lookup of one value of a key (DIGEST#<hex> /
// DIGEST): everything authentication needs, so the token call reads
// nothing else.
type digestLookup struct {
	key
	Digest []byte      `dynamodbav:"digest"`
	KeyID  string      `dynamodbav:"key_id"`
	MID    string      `dynamodbav:"mid"`
	Type   apikey.Type `dynamodbav:"type"`
	Scopes []string    `dynamodbav:"scopes"`
	// Generation is this value's: what tokens minted from it carry.
	Generation int64  `dynamodbav:"generation"`
	ExpiresAt  *stamp `dynamodbav:"expires_at,omitempty"`
	// Written by a roll that keeps the value for a grace period.
	ValidUntil *stamp `dynamodbav:"valid_until,omitempty"`
	TTL        int64  `dynamodbav:"ttl,omitempty"`
}

func newDigestLookup(digest apikey.Digest, k apikey.Key) digestLookup {
	return digestLookup{
		key:        key{digestPK(digest[:]), skDigest},
		Digest:     digest[:],
		KeyID:      k.ID,
		MID:        k.MID,
		Type:       k.Type,
		Scopes:     listOf(k.Scopes),
		Generation: k.Generation,
		ExpiresAt:  stampOf(k.ExpiresAt),
	}
}

func (l digestLookup) credential() *auth.Credential {
	c := &auth.Credential{
		KeyID:      l.KeyID,
		MID:        l.MID,
		Type:       l.Type,
		Scopes:     l.Scopes,
		ExpiresAt:  l.ExpiresAt.time(),
		ValidUntil: l.ValidUntil.time(),
		Generation: generation(l.Generation),
	}
	copy(c.Digest[:], l.Digest)
	return c
}

// sealedValue is a key's KMS-sealed value (KEY#<id> / VALUE); a secret's
// expires, and ttl is then its expiry.
type sealedValue struct {
	key
	EncryptedKey []byte `dynamodbav:"edk"`
	Nonce        []byte `dynamodbav:"nonce"`
	Ciphertext   []byte `dynamodbav:"ct"`
	ExpiresAt    *stamp `dynamodbav:"expires_at,omitempty"`
	TTL          int64  `dynamodbav:"ttl,omitempty"`
}

func newSealedValue(id string, s apikey.Sealed, expires *time.Time) sealedValue {
	v := sealedValue{key: key{keyPK(id), skValue}, EncryptedKey: s.EncryptedKey, Nonce: s.Nonce, Ciphertext: s.Ciphertext}
	if expires != nil {
		v.ExpiresAt, v.TTL = stampOf(expires), expires.Unix()
	}
	return v
}

func (v sealedValue) sealed() *apikey.Sealed {
	return &apikey.Sealed{EncryptedKey: v.EncryptedKey, Nonce: v.Nonce, Ciphertext: v.Ciphertext}
}

// refreshRecord is a refresh token's record (REFRESH#<hex> / REFRESH),
// kept as a tombstone once rotated or revoked, until its ttl.
type refreshRecord struct {
	key
	Family      string `dynamodbav:"family"`
	SecretKeyID string `dynamodbav:"secret_key_id"`
	PublicKeyID string `dynamodbav:"public_key_id"`
	MID         string `dynamodbav:"mid"`
	Scope       string `dynamodbav:"scope"`
	SecretGen   int64  `dynamodbav:"secret_gen"`
	PublicGen   int64  `dynamodbav:"public_gen"`
	// AuthTime is absent on a record written before it was kept.
	AuthTime   stamp  `dynamodbav:"auth_time"`
	IssuedAt   stamp  `dynamodbav:"issued_at"`
	ExpiresAt  stamp  `dynamodbav:"expires_at"`
	TTL        int64  `dynamodbav:"ttl"`
	ValidUntil *stamp `dynamodbav:"valid_until,omitempty"`
	// Written by a rotation and a revocation.
	RotatedAt *stamp `dynamodbav:"rotated_at,omitempty"`
	RevokedAt *stamp `dynamodbav:"revoked_at,omitempty"`
	// WithdrawnAt marks a token written by an issue whose answer was never
	// given (see Store.WithdrawIssue): it reads as revoked, but no family
	// was revoked.
	WithdrawnAt *stamp `dynamodbav:"withdrawn_at,omitempty"`
}

func newRefreshRecord(r auth.RefreshRecord) refreshRecord {
	return refreshRecord{
		key:         key{refreshPK(r.Digest[:]), skRefresh},
		Family:      r.FamilyID,
		SecretKeyID: r.SecretKeyID,
		PublicKeyID: r.PublicKeyID,
		MID:         r.MID,
		Scope:       r.Scope,
		SecretGen:   r.SecretGen,
		PublicGen:   r.PublicGen,
		AuthTime:    stamp(r.AuthTime),
		IssuedAt:    stamp(r.IssuedAt),
		ExpiresAt:   stamp(r.ExpiresAt),
		TTL:         r.ExpiresAt.Unix(),
		ValidUntil:  stampOf(r.ValidUntil),
	}
}

// record is the token's record as the domain has it.
func (rec refreshRecord) record(digest [sha256.Size]byte) *auth.RefreshRecord {
	r := &auth.RefreshRecord{
		Digest:      digest,
		FamilyID:    rec.Family,
		SecretKeyID: rec.SecretKeyID,
		PublicKeyID: rec.PublicKeyID,
		MID:         rec.MID,
		Scope:       rec.Scope,
		SecretGen:   rec.SecretGen,
		PublicGen:   rec.PublicGen,
		AuthTime:    time.Time(rec.AuthTime),
		ValidUntil:  rec.ValidUntil.time(),
		IssuedAt:    time.Time(rec.IssuedAt),
		ExpiresAt:   time.Time(rec.ExpiresAt),
		RotatedAt:   rec.RotatedAt.time(),
		RevokedAt:   withdrawnOr(rec.RevokedAt, rec.WithdrawnAt),
	}
	if r.AuthTime.IsZero() {
		r.AuthTime = r.IssuedAt // a record written before auth_time was kept
	}
	return r
}

// familyMarker records a revoked refresh family (FAMILY#<id> / REVOKED)
// until its ttl.
type familyMarker struct {
	key
	RevokedAt stamp `dynamodbav:"revoked_at"`
	TTL       int64 `dynamodbav:"ttl"`
}

// idempotencyClaim is a calling key's claim on an idempotency key
// (IDEM#<mid>#<key id>#<hex> / IDEM): pending, then done with the id of
// the key created.
type idempotencyClaim struct {
	key
	MID         string `dynamodbav:"mid"`
	CallerKeyID string `dynamodbav:"caller_key_id"`
	Fingerprint []byte `dynamodbav:"fingerprint"`
	State       string `dynamodbav:"state"`
	Claim       string `dynamodbav:"claim"`
	// LockedUntil is in epoch milliseconds; done claims have none.
	LockedUntil *int64 `dynamodbav:"locked_until,omitempty"`
	CreatedAt   stamp  `dynamodbav:"created_at"`
	TTL         int64  `dynamodbav:"ttl"`
	KeyID       string `dynamodbav:"key_id,omitempty"`
}

func newIdempotencyClaim(c apikey.IdempotencyClaim) idempotencyClaim {
	locked := c.LockedUntil.UnixMilli()
	return idempotencyClaim{
		key:         key{idemPK(c), skIdem},
		MID:         c.MID,
		CallerKeyID: c.CallerKeyID,
		Fingerprint: c.Fingerprint[:],
		State:       claimPending,
		Claim:       c.Token,
		LockedUntil: &locked,
		CreatedAt:   stamp(c.At),
		TTL:         c.ExpiresAt.Unix(),
	}
}

// record is the claim as the domain has it.
func (c idempotencyClaim) record() *apikey.IdempotencyRecord {
	r := &apikey.IdempotencyRecord{Token: c.Claim, Done: c.State == claimDone, KeyID: c.KeyID}
	copy(r.Fingerprint[:], c.Fingerprint)
	if c.LockedUntil != nil {
		r.LockedUntil = time.UnixMilli(*c.LockedUntil).UTC()
	}
	return r
}

// onboardingClaim is a merchant's onboarding claim (MID#<mid> / ONBOARD):
// the key pair its last onboarding issued.
type onboardingClaim struct {
	key
	SecretKeyID string `dynamodbav:"secret_key_id"`
	PublicKeyID string `dynamodbav:"public_key_id"`
	OnboardedAt stamp  `dynamodbav:"onboarded_at"`
}

// stamp is a time as the table keeps it: an RFC 3339 string in UTC, to the
// second. One that does not read as such reads as absent, as it always did.
type stamp time.Time

// MarshalDynamoDBAttributeValue implements attributevalue.Marshaler.
func (t stamp) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberS{Value: time.Time(t).UTC().Format(time.RFC3339)}, nil
}

// UnmarshalDynamoDBAttributeValue implements attributevalue.Unmarshaler.
func (t *stamp) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		if parsed, err := time.Parse(time.RFC3339, s.Value); err == nil {
			*t = stamp(parsed)
		}
	}
	return nil
}

func stampOf(t *time.Time) *stamp {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

// time is the stamp as an optional time: nil when absent or unreadable.
func (t *stamp) time() *time.Time {
	if t == nil || time.Time(*t).IsZero() {
		return nil
	}
	v := time.Time(*t)
	return &v
}

// listOf is a list attribute's value: a nil slice is the empty list, as
// it always was, not NULL.
func listOf(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// generation reads a generation attribute; a record or lookup written
// before generations were kept is apikey.FirstGeneration.
func generation(g int64) int64 {
	if g > 0 {
		return g
	}
	return apikey.FirstGeneration
}

// marshal turns one of the item structs above into an item. They hold
// only strings, numbers, bytes, booleans, string lists and stamps, which
// always marshal: a failure is a defect of this package, not of a request.
func marshal(v any) map[string]types.AttributeValue {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		panic("dynamostore: marshal " + err.Error())
	}
	return item
}

// withdrawnOr is a refresh token's revocation time, or, for a withdrawn
// token, when it was withdrawn: either way it no longer rotates.
func withdrawnOr(revoked, withdrawn *stamp) *time.Time {
	if t := revoked.time(); t != nil {
		return t
	}
	return withdrawn.time()
}
