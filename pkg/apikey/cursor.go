package apikey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// List cursors are opaque to clients and tamper-evident: the position (the
// merchant, the filter and the last id shown) followed by a truncated
// HMAC-SHA256 of it under a server key, in base64url.
//
// A MAC rather than encryption, because nothing in a cursor is secret: the
// merchant already sees its own key ids in the page the cursor follows. What
// matters is that a client cannot edit one (a changed byte is a 400, not a
// query from a position the server never handed out) and that a cursor is
// bound to the merchant and filter it was issued for: the mid is inside the
// MAC, and List refuses a cursor whose mid or filter differs from the
// request's, on top of refusing any mid but the token's.
//
// Layout: version (1) | flags (1) | len(mid) (1) | mid | last id | MAC (16).

// MinCursorKeyLen is the shortest cursor MAC key accepted, in bytes.
const MinCursorKeyLen = 32

const (
	cursorVersion = 1
	cursorMACLen  = 16 // 128 bits: forgery is as hard as guessing the key
	flagRevoked   = 1 << 0
)

// cursorDomain separates this MAC from any other use of the same key.
const cursorDomain = "credplane/list-cursor/v1\x00"

var errCursor = errors.New("malformed cursor")

// listPosition is where a listing continues.
type listPosition struct {
	MID            string
	IncludeRevoked bool
	After          string
}

func encodeCursor(key []byte, p listPosition) string {
	var flags byte
	if p.IncludeRevoked {
		flags |= flagRevoked
	}
	raw := make([]byte, 0, 3+len(p.MID)+len(p.After)+cursorMACLen)
	raw = append(raw, cursorVersion, flags, byte(len(p.MID)))
	raw = append(raw, p.MID...)
	raw = append(raw, p.After...)
	raw = append(raw, cursorMAC(key, raw)...)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeCursor(key []byte, s string) (listPosition, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 3+cursorMACLen {
		return listPosition{}, errCursor
	}
	body, mac := raw[:len(raw)-cursorMACLen], raw[len(raw)-cursorMACLen:]
	if !hmac.Equal(mac, cursorMAC(key, body)) {
		return listPosition{}, errCursor
	}
	midLen := int(body[2])
	if body[0] != cursorVersion || body[1]&^flagRevoked != 0 || len(body) < 3+midLen {
		return listPosition{}, errCursor
	}
	p := listPosition{
		MID:            string(body[3 : 3+midLen]),
		IncludeRevoked: body[1]&flagRevoked != 0,
		After:          string(body[3+midLen:]),
	}
	if !ValidMID(p.MID) || !ValidID(p.After) {
		return listPosition{}, errCursor
	}
	return p, nil
}

func cursorMAC(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(cursorDomain))
	m.Write(body)
	return m.Sum(nil)[:cursorMACLen]
}
