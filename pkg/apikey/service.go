package apikey

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/flexfactor/credplane/pkg/scope"
	"github.com/oklog/ulid/v2"
)

// SecretReplayWindow is how long a secret value stays sealed in storage, only
// to replay its creation response to an idempotent retry.
const SecretReplayWindow = 24 * time.Hour

// Caller is the authenticated principal making a request.
type Caller struct {
	MID    string
	KeyID  string
	Scopes []string
}

// Created is a newly issued key with its value, shown once.
type Created struct {
	Key   Key
	Value string
}

// Service issues and manages API keys.
type Service struct {
	Store  Store
	Sealer Sealer
	Stage  Stage
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// NewID returns a fresh key id: "key_" and a ULID, so ids sort by creation.
func NewID(t time.Time) string {
	return "key_" + ulid.MustNew(ulid.Timestamp(t), rand.Reader).String()
}

// Create issues a key for the caller's merchant. The caller may only grant
// scopes it holds itself.
func (s *Service) Create(ctx context.Context, c Caller, in CreateInput) (Created, error) {
	if in.MID != c.MID {
		return Created{}, ErrForeignMerchant
	}
	scopes := in.Scopes
	if scopes == nil {
		scopes = DefaultScopes(in.Type, c.Scopes)
	}
	if missing := scope.Missing(c.Scopes, scopes); len(missing) > 0 {
		return Created{}, &EscalationError{Scopes: missing}
	}
	return s.issue(ctx, Key{
		MID:       in.MID,
		Name:      in.Name,
		Type:      in.Type,
		Scopes:    scopes,
		ExpiresAt: in.ExpiresAt,
	})
}

// issue gives k an id and a value and stores it; a digest collision (never
// seen in practice with 178 random bits) is retried with a new value.
func (s *Service) issue(ctx context.Context, k Key) (Created, error) {
	now := s.now()
	k.CreatedAt = now.Truncate(time.Second)
	k.ID = NewID(now)
	for attempt := 0; ; attempt++ {
		value, err := NewValue(k.Type, s.Stage)
		if err != nil {
			return Created{}, fmt.Errorf("generate value: %w", err)
		}
		k.LastFour = LastFour(value)
		sealed, err := s.Sealer.Seal(ctx, []byte(value), EncryptionContext(k.MID, k.ID))
		if err != nil {
			return Created{}, fmt.Errorf("seal value: %w", err)
		}
		nk := NewKey{Key: k, Digest: DigestOf(value), Sealed: sealed}
		if k.Type == Secret {
			exp := now.Add(SecretReplayWindow)
			nk.SealedExpiresAt = &exp
		}
		err = s.Store.CreateKey(ctx, nk)
		if errors.Is(err, ErrDuplicateDigest) && attempt < 2 {
			continue
		}
		if err != nil {
			return Created{}, fmt.Errorf("store key: %w", err)
		}
		return Created{Key: k, Value: value}, nil
	}
}

// Onboard issues a merchant's first key pair: a secret key holding every
// scope in the catalogue and a public key (which holds none: a token's power
// comes from the secret key it is paired with). Both carry the given name.
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
	public, err = s.issue(ctx, Key{MID: mid, Name: name, Type: Public, Scopes: []string{}})
	if err != nil {
		return Created{}, Created{}, err
	}
	secret, err = s.issue(ctx, Key{MID: mid, Name: name, Type: Secret, Scopes: scope.All()})
	if err != nil {
		return Created{}, Created{}, err
	}
	return public, secret, nil
}
