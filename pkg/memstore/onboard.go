package memstore

import (
	"context"

	"github.com/flexfactor/credplane/pkg/apikey"
)

// OnboardingClaim reads the id of the secret key the merchant's last
// onboarding issued; "" when it was never onboarded.
func (st *Store) OnboardingClaim(_ context.Context, mid string) (string, error) {
	st.lock()
	defer st.mu.Unlock()
	return st.onboarded[mid], nil
}

// Onboard writes both keys and moves the merchant's claim from o.Seen to
// the new secret key, all or nothing.
func (st *Store) Onboard(_ context.Context, o apikey.Onboarding) error {
	for _, nk := range []apikey.NewKey{o.Public, o.Secret} {
		if err := checkSealed(nk.Sealed); err != nil {
			return wrap("onboard", err)
		}
	}
	st.lock()
	defer st.mu.Unlock()
	mid := o.Secret.Key.MID
	if st.onboarded[mid] != o.Seen {
		return apikey.ErrConflict
	}
	for _, nk := range []apikey.NewKey{o.Public, o.Secret} {
		if _, taken := st.lookups[nk.Digest]; taken {
			return apikey.ErrDuplicateDigest
		}
		_, idTaken := st.records[nk.Key.ID]
		_, valueTaken := st.sealed[nk.Key.ID]
		if idTaken || valueTaken {
			return wrap("onboard", errConditionFailed)
		}
	}
	if o.Public.Digest == o.Secret.Digest || o.Public.Key.ID == o.Secret.Key.ID {
		return wrap("onboard", errSameItemTwice)
	}
	for _, nk := range []apikey.NewKey{o.Public, o.Secret} {
		st.put(nk)
	}
	st.appendEvent(o.Event)
	st.onboarded[mid] = o.Secret.Key.ID
	return nil
}
