package token

import "testing"

func TestDERToJOSE(t *testing.T) {
	if _, err := derToJOSE([]byte{0x30, 0x00}); err == nil {
		t.Fatal("empty sequence accepted")
	}
	if _, err := derToJOSE([]byte("garbage")); err == nil {
		t.Fatal("garbage accepted")
	}
}
