package oauthapi

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/auth"
)

// TestEveryRefusalHasOneAnswerPerShape: the one mapping of the token
// routes, in both request shapes; anything else is internal.
func TestEveryRefusalHasOneAnswerPerShape(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want refusal
	}{
		{auth.ErrInvalidCredentials, refusal{401, CodeInvalidClient, DescInvalidClient, MsgInvalidCredentials}},
		{&auth.Refused{Err: auth.ErrInvalidCredentials, Reason: auth.ReasonExpired}, refusal{401, CodeInvalidClient, DescInvalidClient, MsgInvalidCredentials}},
		{auth.ErrInvalidGrant, refusal{400, CodeInvalidGrant, DescInvalidGrant, MsgInvalidRefresh}},
		{&auth.Refused{Err: auth.ErrInvalidGrant, Reason: auth.ReasonRefreshReused}, refusal{400, CodeInvalidGrant, DescInvalidGrant, MsgInvalidRefresh}},
		{auth.ErrInvalidScope, refusal{400, CodeInvalidScope, DescInvalidScope, DescInvalidScope}},
		{&auth.Limited{RetryAfter: time.Second}, refusal{429, CodeTooManyRequests, MsgTooManyRequests, MsgTooManyRequests}},
	} {
		t.Run(tt.err.Error(), func(t *testing.T) {
			if got, ok := refusalOf(fmt.Errorf("wrapped: %w", tt.err)); !ok || got != tt.want {
				t.Fatalf("%+v %v, want %+v", got, ok, tt.want)
			}
		})
	}
	if _, ok := refusalOf(errors.New("kms: boom")); ok {
		t.Fatal("an unknown error was given a public answer")
	}
	if got := auth.ReasonOf(fmt.Errorf("x: %w", &auth.Refused{Err: auth.ErrInvalidGrant, Reason: auth.ReasonKeyGone})); got != auth.ReasonKeyGone {
		t.Fatalf("reason %q", got)
	}
}

// TestRetryAfterRoundsUp: a client that waits the seconds Retry-After gives
// is in the next minute, never a fraction of a second short of it.
func TestRetryAfterRoundsUp(t *testing.T) {
	for _, tt := range []struct {
		left time.Duration
		want string
	}{
		{44500 * time.Millisecond, "45"},
		{time.Minute, "60"},
		{time.Millisecond, "1"},
	} {
		w := httptest.NewRecorder()
		retryAfter(w, fmt.Errorf("wrapped: %w", &auth.Limited{RetryAfter: tt.left}))
		if got := w.Header().Get("Retry-After"); got != tt.want {
			t.Errorf("%v left: Retry-After %q, want %q", tt.left, got, tt.want)
		}
	}
	w := httptest.NewRecorder()
	retryAfter(w, auth.ErrInvalidGrant)
	if got, ok := w.Header()["Retry-After"]; ok {
		t.Errorf("Retry-After %q on another refusal", got)
	}
}
