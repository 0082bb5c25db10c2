package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// MaxBody is the largest request body accepted (16 KiB).
const MaxBody = 16 << 10

// Public messages of body decoding failures.
const (
	MsgMalformedJSON    = "Malformed JSON body."
	MsgTooLarge         = "Request body too large."
	MsgUnsupportedMedia = "Content-Type must be application/json."
)

// BodyError is a request body that cannot be read; Status is 400, 413 or 415
// and Message the public text.
type BodyError struct {
	Status  int
	Message string
}

func (e *BodyError) Error() string { return e.Message }

// IsJSON reports whether the request declares a JSON body.
func IsJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// ReadBody reads at most MaxBody bytes of the body.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &BodyError{Status: http.StatusRequestEntityTooLarge, Message: MsgTooLarge}
	}
	if err != nil {
		return nil, &BodyError{Status: http.StatusBadRequest, Message: MsgMalformedJSON}
	}
	return body, nil
}

// DecodeObject reads a JSON object body into its members. It answers 415
// for a non-JSON content type, 413 past MaxBody, and 400 for anything that
// is not exactly one JSON object.
func DecodeObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	if !IsJSON(r) {
		return nil, &BodyError{Status: http.StatusUnsupportedMediaType, Message: MsgUnsupportedMedia}
	}
	body, err := ReadBody(w, r)
	if err != nil {
		return nil, err
	}
	return ParseObject(body)
}

// ParseObject parses exactly one JSON object (no trailing data) in which no
// object, at any depth, names the same member twice.
func ParseObject(body []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, &BodyError{Status: http.StatusBadRequest, Message: MsgMalformedJSON}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &BodyError{Status: http.StatusBadRequest, Message: MsgMalformedJSON}
	}
	// A map keeps one of two same-named members, and which one differs
	// between parsers: a duplicate is refused rather than resolved.
	if !UniqueMembers(body) {
		return nil, &BodyError{Status: http.StatusBadRequest, Message: MsgMalformedJSON}
	}
	return obj, nil
}

// UniqueMembers reports whether no object in the JSON text body names a
// member twice. body must already be known to be well-formed, which also
// bounds its depth.
func UniqueMembers(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return uniqueValue(dec)
}

// uniqueValue reads one value from dec and reports whether no object in it
// names a member twice.
func uniqueValue(dec *json.Decoder) bool {
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			name, _ := tok.(string)
			if err != nil || seen[name] || !uniqueValue(dec) {
				return false
			}
			seen[name] = true
		}
	case json.Delim('['):
		for dec.More() {
			if !uniqueValue(dec) {
				return false
			}
		}
	default:
		return true
	}
	_, err = dec.Token() // the closing delimiter
	return err == nil
}

// UnknownField is the public message for a member the route does not know.
func UnknownField(name string) string { return fmt.Sprintf("Unknown field: %s.", name) }
