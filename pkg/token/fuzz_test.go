package token_test

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/token"
)

// FuzzVerify feeds the verifier anything a bearer header can carry,
// starting from a valid token and forged variants of it (alg none, HS256,
// another typ). Properties: no panic, every refusal is ErrInvalid, the same
// token gets the same answer, and an accepted token carries its subject,
// merchant and id.
func FuzzVerify(f *testing.F) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	iss, ver := newPair(f, now)
	tok, err := iss.Issue(context.Background(), subject)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok.Token)
	_, claims, _ := strings.Cut(tok.Token, ".")
	claims, _, _ = strings.Cut(claims, ".")
	for _, header := range []string{`{"alg":"none","typ":"at+jwt","kid":"kid-1"}`, `{"alg":"HS256","typ":"at+jwt","kid":"kid-1"}`, `{"alg":"ES256","typ":"JWT","kid":"kid-1"}`} {
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + claims + ".")
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ver.Verify(context.Background(), raw)
		c2, err2 := ver.Verify(context.Background(), raw)
		if !reflect.DeepEqual(c, c2) || !errors.Is(err2, err) {
			t.Fatalf("two answers for %q: %v %v", raw, err, err2)
		}
		if err != nil {
			if !errors.Is(err, token.ErrInvalid) || c != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			return
		}
		if c.Subject == "" || c.MID == "" || c.ID == "" {
			t.Fatalf("accepted %q with claims %+v", raw, c)
		}
	})
}
