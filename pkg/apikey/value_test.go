package apikey

import (
	"hash/crc32"
	"regexp"
	"strings"
	"testing"
)

func TestNewValueFormat(t *testing.T) {
	tests := []struct {
		typ   Type
		stage Stage
		want  string
	}{
		{Secret, Sandbox, `^sk_test_[0-9A-Za-z]{36}$`},
		{Public, Sandbox, `^pk_test_[0-9A-Za-z]{36}$`},
		{Tokenization, Sandbox, `^tk_test_[0-9A-Za-z]{36}$`},
		{Secret, Production, `^sk_live_[0-9A-Za-z]{36}$`},
		{Public, Production, `^pk_live_[0-9A-Za-z]{36}$`},
		{Tokenization, Production, `^tk_live_[0-9A-Za-z]{36}$`},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+string(tt.stage), func(t *testing.T) {
			v, err := NewValue(tt.typ, tt.stage)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(tt.want).MatchString(v) {
				t.Fatalf("value %q does not match %s", v, tt.want)
			}
			got, err := ParseValue(v, tt.stage)
			if err != nil || got != tt.typ {
				t.Fatalf("ParseValue = %q, %v; want %q", got, err, tt.typ)
			}
		})
	}
}

func TestValuesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		v, err := NewValue(Secret, Sandbox)
		if err != nil {
			t.Fatal(err)
		}
		if seen[v[8:38]] {
			t.Fatalf("random part repeated: %s", v)
		}
		seen[v[8:38]] = true
	}
}

func TestRandomPartUsesWholeAlphabet(t *testing.T) {
	counts := map[byte]int{}
	for range 500 {
		v, _ := NewValue(Public, Sandbox)
		for i := 8; i < 38; i++ {
			counts[v[i]]++
		}
	}
	if len(counts) != 62 {
		t.Fatalf("saw %d distinct characters in 15000, want all 62", len(counts))
	}
}

func TestChecksumIsBase62CRC32(t *testing.T) {
	body := "sk_test_" + "0123456789abcdefghijABCDEFGHIJ"
	sum := checksum(body)
	var decoded uint64
	for i := 0; i < len(sum); i++ {
		decoded = decoded*62 + uint64(strings.IndexByte(base62, sum[i]))
	}
	if want := uint64(crc32.ChecksumIEEE([]byte(body))); decoded != want {
		t.Fatalf("checksum %q decodes to %d, want CRC32 %d", sum, decoded, want)
	}
	if _, err := ParseValue(body+sum, Sandbox); err != nil {
		t.Fatalf("value with its own checksum refused: %v", err)
	}
}

func TestParseValueRejects(t *testing.T) {
	good, _ := NewValue(Secret, Sandbox)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := map[string]string{
		"empty":            "",
		"short":            good[:len(good)-1],
		"long":             good + "A",
		"typo in body":     flip(good, 12),
		"typo in checksum": flip(good, len(good)-1),
		"unknown prefix":   "xk" + good[2:],
		"wrong stage":      "sk_live_" + good[8:],
		"bad character":    good[:10] + "-" + good[11:],
		"missing sep":      "sk-test_" + good[8:],
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseValue(v, Sandbox); err != ErrMalformedValue {
				t.Fatalf("ParseValue(%q) = %v, want ErrMalformedValue", v, err)
			}
		})
	}
}

func TestDigestEqual(t *testing.T) {
	a, b := DigestOf("a"), DigestOf("b")
	if !a.Equal(DigestOf("a")) || a.Equal(b) {
		t.Fatal("Digest.Equal is wrong")
	}
}

func TestLastFour(t *testing.T) {
	if got := LastFour("sk_test_abcdWXYZ"); got != "WXYZ" {
		t.Fatalf("LastFour = %q", got)
	}
}
