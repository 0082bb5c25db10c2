package oauthapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// credentials are the client id and secret of a request (RFC 6749 §2.3.1).
type credentials struct {
	id, secret string
	basic      bool // sent with HTTP Basic
	malformed  bool // an Authorization: Basic header that does not decode
}

// complete reports whether both parts are there and readable.
func (c credentials) complete() bool { return !c.malformed && c.id != "" && c.secret != "" }

// errTwoMethods: credentials sent both in the header and in the body.
var errTwoMethods = errors.New("client credentials sent in more than one way")

// clientCredentials reads HTTP Basic credentials, whose two parts are
// form-urlencoded before being joined (RFC 6749 §2.3.1), or else the
// client_id and client_secret body parameters. Using both ways is an error;
// a client_id in the body equal to the Basic one is tolerated.
func clientCredentials(r *http.Request, form url.Values) (credentials, error) {
	scheme, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if asciiLower(scheme) != "basic" { // ASCII case only (RFC 7235), no Unicode folding
		return credentials{id: form.Get("client_id"), secret: form.Get("client_secret")}, nil
	}
	c := credentials{basic: true}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	id, secret, ok := strings.Cut(string(raw), ":")
	if err == nil && ok {
		c.id, err = url.QueryUnescape(id)
		if err == nil {
			c.secret, err = url.QueryUnescape(secret)
		}
	}
	c.malformed = err != nil || !ok
	if form.Has("client_secret") || (form.Has("client_id") && form.Get("client_id") != c.id) {
		return credentials{}, errTwoMethods
	}
	return c, nil
}
