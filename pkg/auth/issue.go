package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flexfactor/credplane/pkg/parallel"
	"github.com/flexfactor/credplane/pkg/token"
)

// withdrawTimeout bounds the write that withdraws an issue whose signing
// failed; it may run after the request's own deadline has passed.
const withdrawTimeout = time.Second

// issue signs an access token and stores a fresh refresh token of the
// family, rotating the one it replaces and counting the token against the
// secret key's limit in the same write.
//
// The signature and the write need nothing from each other, so they run at
// once, and a token costs the longer of the two rather than their sum. The
// write alone decides what is stored, and nothing is handed out unless
// both succeed:
//   - the write fails (a key gone, a token reused, the limit reached, an
//     outage): the signing is canceled, its token dropped, and the answer
//     is the write's;
//   - the write commits and the signing fails: nobody holds the new
//     refresh token, so it can never be presented; it is still withdrawn
//     (WithdrawIssue: revoked, its token of the minute given back, the
//     token it replaced rotatable again, so the client may retry with it),
//     and the answer is the signing's failure, as when it was signed first.
//
// The write is never canceled: an interrupted write may have committed,
// and only its outcome says whether there is anything to withdraw. A key
// this container saw refused for its rate in this minute writes first and
// signs only if the write commits, so that a client past its limit spends
// no signature of the account's shared quota.
func (s *Service) issue(ctx context.Context, g grant) (Tokens, error) {
	rt, digest, err := newRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	now := s.now()
	authTime := g.subject.AuthTime.UTC().Truncate(time.Second)
	rec := RefreshRecord{
		Digest:      digest,
		FamilyID:    g.family,
		SecretKeyID: g.subject.SecretKeyID,
		PublicKeyID: g.subject.PublicKeyID,
		SecretGen:   g.subject.SecretGen,
		PublicGen:   g.subject.PublicGen,
		MID:         g.subject.MID,
		Scope:       g.refreshScope,
		AuthTime:    authTime,
		ValidUntil:  g.subject.NotAfter,
		IssuedAt:    now,
		// A family ends RefreshTTL after the exchange that started it,
		// however often it is refreshed.
		ExpiresAt: authTime.Add(RefreshTTL),
	}
	write := func() error {
		var err error
		if g.replaces == nil {
			err = s.Store.RecordExchange(ctx, rec, s.tokenLimit())
		} else {
			err = s.Store.RotateRefresh(ctx, *g.replaces, rec, s.tokenLimit())
		}
		switch {
		case errors.Is(err, ErrRateLimited):
			s.over.add(rec.SecretKeyID, TokenMinute(now).Add(time.Minute))
			return limited(now)
		case err != nil:
			return fmt.Errorf("record exchange: %w", err)
		}
		return nil
	}
	sign := func(ctx context.Context) (token.Issued, error) {
		at, err := s.Issuer.Issue(ctx, g.subject)
		if err != nil {
			return token.Issued{}, fmt.Errorf("sign access token: %w", err)
		}
		return at, nil
	}

	var at token.Issued
	committed := false
	if s.over.has(rec.SecretKeyID, now) {
		if err = write(); err == nil {
			committed = true
			at, err = sign(ctx)
		}
	} else {
		at, committed, err = signWhileWriting(ctx, sign, write)
	}
	switch {
	case err != nil && committed:
		return Tokens{}, s.withdraw(ctx, rec, g.replaces, err)
	case err != nil:
		return Tokens{}, err
	}
	return Tokens{
		AccessToken:  at.Token,
		RefreshToken: rt,
		IssuedAt:     at.IssuedAt,
		ExpiresAt:    at.ExpiresAt,
		ClientID:     g.subject.PublicKeyID,
		SecretKeyID:  g.subject.SecretKeyID,
		MID:          g.subject.MID,
		Scope:        g.subject.Scopes,
	}, nil
}

// signWhileWriting runs sign and write at once. When the write fails, the
// signing is canceled and the write's error returned; otherwise committed
// is true, and err is the signing's. Either way the signing has ended when
// it returns: nothing of the request runs on after its answer.
func signWhileWriting(ctx context.Context, sign func(context.Context) (token.Issued, error), write func() error) (at token.Issued, committed bool, err error) {
	signing := parallel.Go(ctx, sign)
	if err := write(); err != nil {
		signing.Stop()
		return token.Issued{}, false, err
	}
	at, err = signing.Wait()
	return at, true, err
}

// withdraw undoes the committed write of rec, whose signing failed with
// cause, and returns cause: the answer is the signing's failure, as it was
// when the token was signed before anything was written. A failed
// withdrawal only adds to the message, so that it changes no answer; the
// refresh token stays unusable all the same, since nobody holds it.
func (s *Service) withdraw(ctx context.Context, rec RefreshRecord, replaced *[sha256.Size]byte, cause error) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), withdrawTimeout)
	defer cancel()
	if err := s.Store.WithdrawIssue(wctx, rec, replaced); err != nil {
		return fmt.Errorf("%w (and withdrawing the unsigned issue failed: %v)", cause, err)
	}
	return cause
}

// maxOverLimit bounds the keys overLimit holds; a full set first drops the
// keys whose minute is over, then all.
const maxOverLimit = 10000

// overLimit holds the secret keys this container saw refused for their
// rate, each until the end of that minute. It only orders a request's
// calls: the count in the table alone decides what is refused.
type overLimit struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (o *overLimit) add(keyID string, until time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.until == nil {
		o.until = map[string]time.Time{}
	}
	if len(o.until) >= maxOverLimit {
		for id, u := range o.until {
			if !u.After(until.Add(-time.Minute)) {
				delete(o.until, id)
			}
		}
		if len(o.until) >= maxOverLimit {
			clear(o.until)
		}
	}
	o.until[keyID] = until
}

func (o *overLimit) has(keyID string, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	u, ok := o.until[keyID]
	return ok && now.Before(u)
}
