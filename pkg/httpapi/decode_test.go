package httpapi

import (
	"errors"
	"testing"
)

func TestParseObjectRefusesDuplicateMembers(t *testing.T) {
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"distinct members", `{"a":1,"b":2}`, true},
		{"same name in sibling objects", `{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]}`, true},
		{"same name at two depths", `{"x":{"x":{"x":1}}}`, true},
		{"names differing in case only", `{"a":1,"A":2}`, true},
		{"a name as a string value", `{"a":"a","b":"a"}`, true},
		{"top level", `{"a":1,"a":1}`, false},
		{"top level, other values", `{"name":"first","type":"secret","name":"second"}`, false},
		{"top level, escaped", `{"a":1,"\u0061":2}`, false},
		{"top level, null then value", `{"a":null,"a":[]}`, false},
		{"nested object", `{"a":{"x":1,"x":2}}`, false},
		{"object in an array", `{"a":[1,{"x":1,"y":2,"x":3}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseObject([]byte(tt.body))
			if tt.ok {
				if err != nil {
					t.Fatalf("%s: %v", tt.body, err)
				}
				return
			}
			var be *BodyError
			if !errors.As(err, &be) || be.Status != 400 || be.Message != MsgMalformedJSON {
				t.Fatalf("%s: %v, want a 400 %q", tt.body, err, MsgMalformedJSON)
			}
		})
	}
}
