// Package audit is the trail of every change to a credential (PCI DSS v4
// 10.2.1.5 and 10.2.2: who, what, when, from where, which resource). An
// event is written in the same transaction as the change it records, by
// the store of that change; this package defines the events, where a
// request came from, and the listing of a merchant's trail. It imports no
// AWS SDK.
package audit

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Actions of the trail (SPEC "Audit trail").
const (
	MerchantOnboarded    = "merchant.onboarded"
	KeyCreated           = "key.created"
	KeyRolled            = "key.rolled"
	KeyDeleted           = "key.deleted"
	KeyLeaked            = "key.leaked"
	RefreshRevoked       = "refresh.revoked"
	RefreshReuseDetected = "refresh.reuse_detected"
)

// Actions lists every action, in the order of the contract.
var Actions = []string{MerchantOnboarded, KeyCreated, KeyRolled, KeyDeleted, KeyLeaked, RefreshRevoked, RefreshReuseDetected}

// ValidAction reports whether a is one of Actions.
func ValidAction(a string) bool { return slices.Contains(Actions, a) }

// Actor types.
const (
	ActorAPIKey         = "api_key"         // the secret key behind a bearer token or a client authentication
	ActorOperator       = "operator"        // whoever invoked the onboard function
	ActorSecretScanning = "secret_scanning" // a partner's leak report; the id names the partner
	ActorSystem         = "system"          // the service itself (reuse detection)
)

// Actor is who made a change.
type Actor struct {
	Type string
	ID   string
}

// DefaultRetention is how long events are kept (PCI keeps 12 months).
const DefaultRetention = 400 * 24 * time.Hour

// Event is one entry of the trail. It never holds a key value, token,
// digest or ciphertext: Details carries names, types, scopes, times and
// sources only.
type Event struct {
	ID         string
	MID        string
	Action     string
	KeyID      string
	Actor      Actor
	RequestID  string
	SourceIP   string
	UserAgent  string
	OccurredAt time.Time
	Details    map[string]any
	// ExpiresAt ends the event's retention (the store's TTL).
	ExpiresAt time.Time
}

// Origin is where a request came from.
type Origin struct {
	RequestID string
	SourceIP  string
	UserAgent string
}

type originKey struct{}

// WithOrigin returns a context carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin carried by ctx (zero when none).
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// entropy makes the ids a process mints within one millisecond increase,
// so that the trail's order (by id) is the order of the changes.
var entropy = struct {
	sync.Mutex
	*ulid.MonotonicEntropy
}{MonotonicEntropy: ulid.Monotonic(rand.Reader, 0)}

// newID returns "evt_" and a ULID of now (to the millisecond).
func newID(now time.Time) string {
	entropy.Lock()
	defer entropy.Unlock()
	return "evt_" + ulid.MustNew(ulid.Timestamp(now), entropy.MonotonicEntropy).String()
}

// New returns an event of the change at now, with the origin of ctx, kept
// for retention (DefaultRetention when zero).
func New(ctx context.Context, now time.Time, retention time.Duration, mid, action, keyID string, actor Actor, details map[string]any) *Event {
	if retention <= 0 {
		retention = DefaultRetention
	}
	o := OriginFrom(ctx)
	id := newID(now)
	now = now.UTC().Truncate(time.Second)
	return &Event{
		ID:         id,
		MID:        mid,
		Action:     action,
		KeyID:      keyID,
		Actor:      actor,
		RequestID:  o.RequestID,
		SourceIP:   o.SourceIP,
		UserAgent:  o.UserAgent,
		OccurredAt: now,
		Details:    details,
		ExpiresAt:  now.Add(retention),
	}
}
