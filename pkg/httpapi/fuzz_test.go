package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseObject: every JSON body of every route goes through it. An
// accepted body is one valid JSON object; a refused one is a 400 with the
// malformed-body message, never anything a client cannot fix.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,{"c":2}]}}`, `{"a":1,"a":2}`, `{"a":{"b":1,"b":2}}`, `{} {}`, `[]`, `null`, `{"a":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, err := ParseObject(body)
		obj2, err2 := ParseObject(body)
		if !reflect.DeepEqual(obj, obj2) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("two answers for %q", body)
		}
		var be *BodyError
		if err != nil {
			if !errors.As(err, &be) || be.Status != http.StatusBadRequest || be.Message != MsgMalformedJSON {
				t.Fatalf("%q: %v", body, err)
			}
			return
		}
		if trimmed := bytes.TrimSpace(body); !json.Valid(body) || len(trimmed) == 0 || trimmed[0] != '{' {
			t.Fatalf("accepted %q", body)
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  abc", "BEARER\tabc", "Bearer a b", "Basic abc", "Bearer", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := bearerToken(header)
		tok2, ok2 := bearerToken(header)
		if tok != tok2 || ok != ok2 {
			t.Fatalf("two answers for %q", header)
		}
		if ok && (tok == "" || strings.ContainsAny(tok, " \t") || !strings.HasSuffix(header, tok)) {
			t.Fatalf("%q gave token %q", header, tok)
		}
	})
}
