package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"hash/crc32"
	"strings"
)

// base62 is the alphabet of key values: digits, upper case, lower case.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const (
	randomLen   = 30
	checksumLen = 6
	// prefixLen is len("sk_test_"): every prefix has this length.
	prefixLen = 8
	// ValueLen is the length of every key value.
	ValueLen = prefixLen + randomLen + checksumLen
)

// ErrMalformedValue reports a key value whose shape or checksum is wrong; it
// is detected without any storage read.
var ErrMalformedValue = errors.New("malformed key value")

// Digest is the SHA-256 of a key value: the only form of it that is stored
// for lookup.
type Digest [sha256.Size]byte

// DigestOf returns the lookup digest of a key value.
func DigestOf(value string) Digest { return sha256.Sum256([]byte(value)) }

// Equal compares two digests in constant time.
func (d Digest) Equal(o Digest) bool { return subtle.ConstantTimeCompare(d[:], o[:]) == 1 }

// NewValue returns a fresh key value for the type and stage, from crypto/rand.
func NewValue(t Type, s Stage) (string, error) {
	var b strings.Builder
	b.Grow(ValueLen)
	b.WriteString(t.prefix())
	b.WriteByte('_')
	b.WriteString(s.env())
	b.WriteByte('_')
	if err := appendRandom(&b, randomLen); err != nil {
		return "", err
	}
	body := b.String()
	return body + checksum(body), nil
}

// appendRandom appends n uniformly random base62 characters, rejecting
// bytes that would bias the distribution.
func appendRandom(b *strings.Builder, n int) error {
	buf := make([]byte, 64)
	for n > 0 {
		if _, err := rand.Read(buf); err != nil {
			return err
		}
		for _, c := range buf {
			if c >= 248 { // 248 = 4*62: keeps every symbol equally likely
				continue
			}
			b.WriteByte(base62[c%62])
			if n--; n == 0 {
				break
			}
		}
	}
	return nil
}

// checksum is the CRC32 (IEEE) of s in 6 zero-padded base62 characters.
func checksum(s string) string {
	v := crc32.ChecksumIEEE([]byte(s))
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
	return string(out[:])
}

// ParseValue checks a value's shape and checksum for the expected stage and
// returns its type. It never touches storage.
func ParseValue(v string, s Stage) (Type, error) {
	if len(v) != ValueLen || v[2] != '_' || v[7] != '_' || v[3:7] != s.env() {
		return "", ErrMalformedValue
	}
	t, ok := typeByPrefix(v[:2])
	if !ok {
		return "", ErrMalformedValue
	}
	for i := prefixLen; i < ValueLen; i++ {
		if strings.IndexByte(base62, v[i]) < 0 {
			return "", ErrMalformedValue
		}
	}
	body := v[:ValueLen-checksumLen]
	if subtle.ConstantTimeCompare([]byte(checksum(body)), []byte(v[ValueLen-checksumLen:])) != 1 {
		return "", ErrMalformedValue
	}
	return t, nil
}

// LastFour returns the last four characters of a value, safe to show.
func LastFour(v string) string {
	if len(v) < 4 {
		return ""
	}
	return v[len(v)-4:]
}
