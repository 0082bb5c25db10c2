package auth

import (
	"errors"

	"github.com/flexfactor/credplane/pkg/scope"
)

// ErrInvalidScope: a requested scope is unknown or not held by the grant.
var ErrInvalidScope = errors.New("invalid scope")

// narrow returns the scope of a token limited to requested (RFC 6749 §3.3):
// nil means all of granted; otherwise every requested scope must be in the
// catalogue and in granted. Duplicates collapse; the request's order is kept.
func narrow(granted, requested []string) (string, error) {
	if requested == nil {
		return scope.Join(granted), nil
	}
	req, err := scope.Normalize(requested)
	if err != nil || len(req) == 0 || len(scope.Missing(granted, req)) > 0 {
		return "", ErrInvalidScope
	}
	return scope.Join(req), nil
}
