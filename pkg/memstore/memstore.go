// Package memstore keeps in memory what the DynamoDB and KMS adapters keep
// in AWS: Store implements every storage port the domain owns (apikey.Store
// and auth.Store) and Sealer implements apikey.Sealer. It is for logic and
// route tests, and a whole local stack, that need no emulator.
//
// Store behaves as the dynamostore adapter does on its table, and the
// storetest suite holds both to that: each write is all or nothing, under
// the same conditions, answering with the same domain errors; stored times
// keep whole seconds in UTC (idempotency locks, milliseconds); a read gives
// back what the table would, quirks included (a record of generation 0
// reads as the first; a write that would touch one item twice fails). Items
// the table gives a TTL are never swept: as in a table whose sweep has not
// run, only the conditions that read an expiry honour it. A test that needs
// a failure, or a count of calls, embeds *Store in a type of its own and
// overrides the method.
package memstore

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/auth"
)

// Store is an in-memory adapter of the apikey and auth storage ports, safe
// for concurrent use. The zero value is an empty store.
type Store struct {
	mu       sync.Mutex
	records  map[string]*record // KEY#<id> / META
	sealed   map[string]*sealedValue
	lookups  map[apikey.Digest]*auth.Credential // DIGEST#<hex> / DIGEST
	refresh  map[[sha256.Size]byte]*auth.RefreshRecord
	families map[string]time.Time // revoked family -> until
	claims   map[string]*claim    // IDEM#<mid>#<key id>#<hex> / IDEM
	// counts are the tokens each secret key obtained in a minute.
	counts map[tokenMinute]int
	// onboarded is each merchant's onboarding claim: the secret key id of
	// its last onboarding (MID#<mid> / ONBOARD).
	onboarded map[string]string
	events    map[string][]audit.Event // the audit table, by merchant
}

var (
	_ apikey.Store = (*Store)(nil)
	_ auth.Store   = (*Store)(nil)
)

// lock takes the store's lock, making its maps on first use; the caller
// unlocks.
func (st *Store) lock() {
	st.mu.Lock()
	if st.records == nil {
		st.records = map[string]*record{}
		st.sealed = map[string]*sealedValue{}
		st.lookups = map[apikey.Digest]*auth.Credential{}
		st.refresh = map[[sha256.Size]byte]*auth.RefreshRecord{}
		st.families = map[string]time.Time{}
		st.claims = map[string]*claim{}
		st.counts = map[tokenMinute]int{}
		st.onboarded = map[string]string{}
		st.events = map[string][]audit.Event{}
	}
}

// record is a key record as the table holds it: Key.Generation is the
// number written (0 included), and only the attributes the adapter writes
// are set.
type record struct {
	key            apikey.Key
	digest         apikey.Digest
	previousDigest *apikey.Digest
}

// sealedValue is a key's sealed value item; expiresAt is its TTL.
type sealedValue struct {
	sealed    apikey.Sealed
	expiresAt *time.Time
}

// errConditionFailed stands for a cancelled transaction whose failed
// condition the adapter maps to no domain error.
var errConditionFailed = errors.New("transaction cancelled: condition failed")

// errSameItemTwice stands for the table's refusal of a transaction that
// names one item twice.
var errSameItemTwice = errors.New("transaction cannot include multiple operations on one item")

// distinct reports whether a transaction's items are all different items
// (the table checks it once the conditions hold).
func distinct[T comparable](items ...T) bool {
	for i := range items {
		if slices.Contains(items[i+1:], items[i]) {
			return false
		}
	}
	return true
}

// checkSealed refuses what the table refuses: a nil slice becomes a binary
// attribute without a value (an empty, non-nil one is accepted).
func checkSealed(s apikey.Sealed) error {
	if s.EncryptedKey == nil || s.Nonce == nil || s.Ciphertext == nil {
		return errors.New("validation: a sealed value has a nil part")
	}
	return nil
}

// Time is kept as the table keeps it: RFC 3339 in UTC, whole seconds.
func sec(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func secp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := sec(*t)
	return &v
}

// clonep copies an optional time so that callers share nothing with the store.
func clonep(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

// readGeneration is a generation as read: the table's adapter counts a
// missing or zero one as the first.
func readGeneration(g int64) int64 {
	if g > 0 {
		return g
	}
	return apikey.FirstGeneration
}

// scopes copies a scope list as read back: never nil.
func scopes(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func wrap(op string, err error) error { return fmt.Errorf("%s: %w", op, err) }
