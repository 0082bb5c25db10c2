package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Listing errors and public messages.
var (
	// ErrForeignMerchant: the listing names a merchant other than the caller's.
	ErrForeignMerchant = errors.New("merchant does not match the caller")
	// ErrInvalidCursor: a cursor altered, forged, or minted for another
	// merchant or filter.
	ErrInvalidCursor = errors.New("invalid audit cursor")
)

// Public validation messages of the listing.
const (
	MsgInvalidAction = "Invalid action value."
	MsgInvalidLimit  = "Invalid limit value."
	MsgInvalidKeyID  = "Invalid key_id value."
	MsgInvalidMID    = "Invalid mid."
)

// Page sizes of the listing.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// Query selects one page of a merchant's events, newest first.
type Query struct {
	MID    string
	KeyID  string // "" for every key
	Action string // "" for every action
	// After is the id of the last event of the previous page ("" for the first).
	After string
	Limit int
}

// Store reads the trail.
type Store interface {
	// ListEvents returns up to q.Limit events and whether more follow.
	ListEvents(ctx context.Context, q Query) (events []Event, more bool, err error)
}

// Service lists a merchant's trail.
type Service struct {
	Store Store
	// CursorKey authenticates cursors (at least 32 bytes).
	CursorKey []byte
}

// ListInput is a validated listing request.
type ListInput struct {
	MID, KeyID, Action, Cursor string
	Limit                      int
}

// Page is one page of events; NextCursor is "" on the last page.
type Page struct {
	Events     []Event
	NextCursor string
}

// List returns a page of callerMID's events, newest first. The cursor is
// bound to the merchant and the filters it was issued for.
func (s *Service) List(ctx context.Context, callerMID string, in ListInput) (Page, error) {
	if in.MID != callerMID {
		return Page{}, ErrForeignMerchant
	}
	if len(s.CursorKey) < 32 {
		return Page{}, errors.New("audit list: no cursor key configured")
	}
	pos := position{MID: in.MID, KeyID: in.KeyID, Action: in.Action}
	if in.Cursor != "" {
		got, err := s.open(in.Cursor)
		if err != nil || got.MID != pos.MID || got.KeyID != pos.KeyID || got.Action != pos.Action {
			return Page{}, ErrInvalidCursor
		}
		pos.After = got.After
	}
	events, more, err := s.Store.ListEvents(ctx, Query{MID: in.MID, KeyID: in.KeyID, Action: in.Action, After: pos.After, Limit: in.Limit})
	if err != nil {
		return Page{}, fmt.Errorf("list audit events: %w", err)
	}
	p := Page{Events: events}
	if more && len(events) > 0 {
		pos.After = events[len(events)-1].ID
		p.NextCursor = s.seal(pos)
	}
	return p, nil
}

// position is where a listing continues: the merchant, the filters and the
// last event shown, MACed so that a client can neither edit nor move it.
type position struct {
	MID    string `json:"m"`
	KeyID  string `json:"k,omitempty"`
	Action string `json:"a,omitempty"`
	After  string `json:"e"`
}

// cursorDomain separates this MAC from the key listing's.
const cursorDomain = "credplane/audit-cursor/v1\x00"

const cursorMACLen = 16

func (s *Service) mac(body []byte) []byte {
	m := hmac.New(sha256.New, s.CursorKey)
	m.Write([]byte(cursorDomain))
	m.Write(body)
	return m.Sum(nil)[:cursorMACLen]
}

func (s *Service) seal(p position) string {
	body, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(append(body, s.mac(body)...))
}

func (s *Service) open(c string) (position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) <= cursorMACLen {
		return position{}, ErrInvalidCursor
	}
	body, mac := raw[:len(raw)-cursorMACLen], raw[len(raw)-cursorMACLen:]
	if !hmac.Equal(mac, s.mac(body)) {
		return position{}, ErrInvalidCursor
	}
	var p position
	if json.Unmarshal(body, &p) != nil || !validEventID(p.After) {
		return position{}, ErrInvalidCursor
	}
	return p, nil
}

// validEventID reports whether s is "evt_" and a canonical ULID.
func validEventID(s string) bool {
	rest, ok := strings.CutPrefix(s, "evt_")
	if !ok {
		return false
	}
	id, err := ulid.ParseStrict(rest)
	return err == nil && id.String() == rest
}

// Retention returns the retention for AUDIT_RETENTION_DAYS (0 or less:
// DefaultRetention).
func Retention(days int) time.Duration {
	if days <= 0 {
		return DefaultRetention
	}
	return time.Duration(days) * 24 * time.Hour
}
