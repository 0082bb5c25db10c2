package apikeyapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/httpapi"
)

// TestEveryDomainErrorHasOnePublicAnswer: the one mapping of the api-keys
// routes, wrapped errors included; anything else is internal.
func TestEveryDomainErrorHasOnePublicAnswer(t *testing.T) {
	for _, tt := range []struct {
		err        error
		status     int
		msgs       []string
		retryAfter bool
	}{
		{apikey.ErrNotFound, 404, []string{MsgKeyNotFound}, false},
		{apikey.ErrForeignMerchant, 403, []string{MsgForeignMerchant}, false},
		{&apikey.EscalationError{Scopes: []string{"a:b", "c:d"}}, 403, []string{"Cannot grant scopes the caller does not hold: a:b, c:d."}, false},
		{&apikey.ScopeError{Scopes: []string{"payments:write"}}, 403, []string{httpapi.MsgForbiddenScope}, false},
		{&apikey.ValidationError{Problems: []string{"x", "y"}}, 400, []string{"x", "y"}, false},
		{apikey.ErrInvalidCursor, 400, []string{MsgInvalidCursor}, false},
		{apikey.ErrConflict, 409, []string{MsgKeyChanged}, false},
		{apikey.ErrRevoked, 409, []string{MsgKeyRevoked}, false},
		{apikey.ErrExpired, 409, []string{MsgKeyExpired}, false},
		{apikey.ErrIdempotencyInFlight, 409, []string{MsgIdempotencyInFlight}, true},
		{apikey.ErrReplayUnavailable, 409, []string{MsgReplayUnavailable}, false},
		{apikey.ErrIdempotencyMismatch, 422, []string{MsgIdempotencyMismatch}, false},
	} {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			p, ok := problemOf(fmt.Errorf("context: %w", tt.err))
			if !ok || p.Status != tt.status || !slices.Equal(p.Messages, tt.msgs) || p.RetryAfter != tt.retryAfter {
				t.Fatalf("%+v %v", p, ok)
			}
		})
	}
	if _, ok := problemOf(errors.New("dynamodb: boom")); ok {
		t.Fatal("an unknown error was given a public answer")
	}
}

func TestScopeRefusalChallengesWithTheMissingScopes(t *testing.T) {
	p, _ := problemOf(&apikey.ScopeError{Scopes: []string{"payments:write", "refunds:write"}})
	w := newRecorder()
	p.writeHeader(w)
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer error="insufficient_scope", scope="payments:write refunds:write"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
}

type recorder struct{ h http.Header }

func newRecorder() *recorder                    { return &recorder{h: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(int)             {}
