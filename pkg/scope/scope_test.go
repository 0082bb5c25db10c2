package scope

import (
	"slices"
	"testing"
)

func TestCatalogue(t *testing.T) {
	all := All()
	if len(all) != 15 || all[len(all)-1] != Tokenize {
		t.Fatalf("catalogue %q", all)
	}
	for _, s := range []string{"customers:read", "charges:write", "orders:read", "payments:write", "refunds:read", "merchants:write", "api-keys:read", "tokenize"} {
		if !Valid(s) {
			t.Errorf("%s should be valid", s)
		}
	}
	for _, s := range []string{"", "charges", "charges:delete", "Charges:read", "tokenize:read", " charges:read"} {
		if Valid(s) {
			t.Errorf("%q should be invalid", s)
		}
	}
	all[0] = "mutated"
	if All()[0] == "mutated" {
		t.Fatal("All exposes the catalogue")
	}
}

func TestNormalize(t *testing.T) {
	got, err := Normalize([]string{"charges:read", "customers:read", "charges:read"})
	if err != nil || !slices.Equal(got, []string{"charges:read", "customers:read"}) {
		t.Fatalf("Normalize = %q, %v", got, err)
	}
	if _, err := Normalize([]string{"charges:read", "x"}); err != ErrInvalid {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingSplitJoin(t *testing.T) {
	if got := Missing([]string{"a", "b"}, []string{"b", "c", "d"}); !slices.Equal(got, []string{"c", "d"}) {
		t.Fatalf("Missing = %q", got)
	}
	if got := Split("  a b\tc "); !slices.Equal(got, []string{"a", "b", "c"}) || Join(got) != "a b c" {
		t.Fatalf("Split/Join = %q", got)
	}
}
