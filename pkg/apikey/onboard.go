package apikey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/scope"
)

// MsgAlreadyOnboarded refuses to onboard a merchant that can already manage
// its own keys.
const MsgAlreadyOnboarded = "Merchant already onboarded: it has an active secret key that manages API keys."

// onboardAttempts bounds the rounds of an onboarding whose claim write keeps
// meeting concurrent ones: each round reads the claim again, so a rival
// that committed is seen and refuses this one.
const onboardAttempts = 3

// Onboard issues a merchant's first key pair: a secret key holding every
// scope in the catalogue and a public key (which holds none: a token's power
// comes from the secret key it is paired with). Both carry the given name.
// A merchant that still has an active secret key holding api-keys:write is
// refused, so a repeated call cannot mint a second all-powerful pair; one
// whose managing keys are all deleted or expired can be onboarded again
// (recovery of a lost secret). Concurrent calls for one merchant issue one
// pair: the pair is written with the merchant's onboarding claim, on the
// condition that the claim is still the one read before the checks.
func (s *Service) Onboard(ctx context.Context, mid, name string) (public, secret Created, err error) {
	if !ValidMID(mid) {
		return Created{}, Created{}, &ValidationError{Problems: []string{MsgInvalidMID}}
	}
	if name == "" {
		name = mid
	}
	if !validName(name) {
		return Created{}, Created{}, &ValidationError{Problems: []string{MsgInvalidName}}
	}
	for attempt := 1; ; attempt++ {
		public, secret, err = s.onboardOnce(ctx, mid, name)
		if errors.Is(err, ErrConflict) && attempt < onboardAttempts {
			continue // the claim moved or was contended: read it again
		}
		return public, secret, err
	}
}

// onboardOnce reads the merchant's claim, checks that nothing manages its
// keys, and writes the pair with the claim moved to the new secret key;
// ErrConflict when the claim changed meanwhile.
func (s *Service) onboardOnce(ctx context.Context, mid, name string) (public, secret Created, err error) {
	seen, err := s.Store.OnboardingClaim(ctx, mid)
	if err != nil {
		return Created{}, Created{}, fmt.Errorf("read onboarding claim: %w", err)
	}
	now := s.now()
	managed, err := s.managed(ctx, mid, seen, now)
	if err != nil {
		return Created{}, Created{}, err
	}
	if managed {
		return Created{}, Created{}, &ValidationError{Problems: []string{MsgAlreadyOnboarded}}
	}
	pub := fresh(Key{MID: mid, Name: name, Type: Public, Scopes: []string{}}, now)
	sec := fresh(Key{MID: mid, Name: name, Type: Secret, Scopes: scope.All()}, now)
	// A digest already taken (never seen with 178 random bits) mints that
	// key's value again; the outer loop re-mints the public value only when
	// the inner one gives up.
	var sm minted
	pm, err := s.storeFresh(ctx, pub, now, nil, func(pm minted) error {
		var err error
		sm, err = s.storeFresh(ctx, sec, now, nil, func(sm minted) error {
			ev := s.event(ctx, now, sec, audit.MerchantOnboarded, audit.Actor{Type: audit.ActorOperator},
				map[string]any{"public_key_id": pub.ID, "secret_key_id": sec.ID, "scopes": sec.Scopes})
			return s.Store.Onboard(ctx, Onboarding{Public: pm.newKey(pub, nil), Secret: sm.newKey(sec, nil), Seen: seen, Event: ev})
		})
		return err
	})
	if err != nil {
		return Created{}, Created{}, fmt.Errorf("store key pair: %w", err)
	}
	pub.LastFour, sec.LastFour = LastFour(pm.value), LastFour(sm.value)
	return Created{Key: pub, Value: pm.value}, Created{Key: sec, Value: sm.value}, nil
}

// managed reports whether merchant mid has a key that manages its keys:
// the secret key its claim names, read directly (the listing is an index
// that may not show a just-committed onboarding yet), or any key listed.
func (s *Service) managed(ctx context.Context, mid, claimed string, now time.Time) (bool, error) {
	if claimed != "" {
		sk, err := s.Store.GetKey(ctx, claimed)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return false, fmt.Errorf("get onboarded key: %w", err)
		}
		if err == nil && managesKeys(sk.Key, now) {
			return true, nil
		}
	}
	none, err := s.noOtherManager(ctx, Key{MID: mid}, now)
	return !none, err
}
