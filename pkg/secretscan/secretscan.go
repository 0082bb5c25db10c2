// Package secretscan receives GitHub secret-scanning partner reports: it
// verifies their signature with GitHub's published keys, parses the report,
// and asks the key domain what each reported token is. It imports no AWS
// SDK; revocation happens through the Leaks port.
package secretscan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
)

// MaxReportBytes is the largest report accepted (1 MiB).
const MaxReportBytes = 1 << 20

// MaxTokens is the most tokens one report may carry.
const MaxTokens = 1000

// Label is GitHub's verdict vocabulary for a reported token.
type Label string

// The two labels of a partner response.
const (
	TruePositive  Label = "true_positive"
	FalsePositive Label = "false_positive"
)

// Reported is one token of a report: where GitHub found it.
type Reported struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// Leaks decides what a reported token is and, for a live secret, revokes
// it (the key domain implements it).
type Leaks interface {
	// ReportLeak labels token and applies the revocation a leak calls for.
	ReportLeak(ctx context.Context, r Reported) (Label, error)
}

// ErrMalformedReport: the body is not a JSON array of at most MaxTokens
// report objects.
var ErrMalformedReport = errors.New("malformed secret-scanning report")

// ParseReport reads a report: a JSON array of at most MaxTokens objects
// with exactly the members token, type, url and source, all strings, token
// not empty. Anything else is ErrMalformedReport.
func ParseReport(body []byte) ([]Reported, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var raw []json.RawMessage
	if err := dec.Decode(&raw); err != nil || raw == nil || len(raw) > MaxTokens {
		return nil, ErrMalformedReport
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ErrMalformedReport
	}
	out := make([]Reported, 0, len(raw))
	for _, item := range raw {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(item, &members); err != nil || members == nil || len(members) > 4 {
			return nil, ErrMalformedReport
		}
		var r Reported
		d := json.NewDecoder(bytes.NewReader(item))
		d.DisallowUnknownFields()
		if err := d.Decode(&r); err != nil || r.Token == "" {
			return nil, ErrMalformedReport
		}
		for _, name := range []string{"token", "type", "url", "source"} {
			if v, ok := members[name]; !ok || len(v) == 0 || v[0] != '"' {
				return nil, ErrMalformedReport
			}
		}
		out = append(out, r)
	}
	return out, nil
}
