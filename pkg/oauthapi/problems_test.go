package oauthapi

import (
	"errors"
	"fmt"
	"testing"

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
