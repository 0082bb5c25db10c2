package auth

import (
	"errors"
	"time"
)

// DefaultTokenLimit is how many tokens a secret key may obtain per minute,
// exchanges and refreshes together, when Service.TokenLimit is not set.
const DefaultTokenLimit = 60

// ErrRateLimited: the secret key behind a token request already obtained
// its tokens of the minute. The store reports it when its count refuses a
// write; the service returns it as a *Limited.
var ErrRateLimited = errors.New("too many token requests")

// Limited is a token request refused for its secret key's rate. It matches
// ErrRateLimited with errors.Is.
type Limited struct {
	// RetryAfter is the time left until the next minute, when the key may
	// obtain tokens again.
	RetryAfter time.Duration
}

func (l *Limited) Error() string { return ErrRateLimited.Error() }

// Unwrap lets errors.Is see ErrRateLimited.
func (l *Limited) Unwrap() error { return ErrRateLimited }

// RetryAfter returns how long the refused request should wait before it is
// tried again: zero unless err is a *Limited.
func RetryAfter(err error) time.Duration {
	var l *Limited
	if errors.As(err, &l) {
		return l.RetryAfter
	}
	return 0
}

// TokenMinute is the minute a token issued at t is counted in.
func TokenMinute(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

// limited is the refusal of a token request made at now.
func limited(now time.Time) error {
	return &Limited{RetryAfter: TokenMinute(now).Add(time.Minute).Sub(now)}
}

func (s *Service) tokenLimit() int {
	if s.TokenLimit > 0 {
		return s.TokenLimit
	}
	return DefaultTokenLimit
}
