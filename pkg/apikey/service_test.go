package apikey

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/flexfactor/credplane/pkg/scope"
)

// fakeSealer "encrypts" by keeping the plaintext next to its context, and
// refuses to open with another context, as KMS does.
type fakeSealer struct {
	contexts []map[string]string
	// wait, when set, runs first in Seal and may fail it; fail fails it.
	wait func(ctx context.Context) error
	fail error
}

func (f *fakeSealer) Seal(ctx context.Context, p []byte, ec map[string]string) (Sealed, error) {
	f.contexts = append(f.contexts, ec)
	if f.wait != nil {
		if err := f.wait(ctx); err != nil {
			return Sealed{}, err
		}
	}
	if f.fail != nil {
		return Sealed{}, f.fail
	}
	return Sealed{EncryptedKey: []byte(ec["mid"] + "|" + ec["key_id"]), Ciphertext: slices.Clone(p)}, nil
}

func (f *fakeSealer) Open(_ context.Context, s Sealed, ec map[string]string) ([]byte, error) {
	if string(s.EncryptedKey) != ec["mid"]+"|"+ec["key_id"] {
		return nil, errors.New("fake kms: encryption context mismatch")
	}
	return s.Ciphertext, nil
}

func newService() (*Service, *fakeStore, *fakeSealer) {
	st, se := newFakeStore(), &fakeSealer{}
	return &Service{Store: st, Sealer: se, Stage: Sandbox, CursorKey: testCursorKey, Now: func() time.Time { return now }}, st, se
}

var owner = Caller{MID: "mid_123456", KeyID: "key_caller", Scopes: []string{"customers:read", "charges:read", "api-keys:write", scope.Tokenize}}

func TestCreateDefaultsScopesByType(t *testing.T) {
	tests := []struct {
		typ  Type
		want []string
	}{
		{Secret, owner.Scopes},
		{Public, []string{}},
		{Tokenization, []string{scope.Tokenize}},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			svc, st, _ := newService()
			got, err := svc.Create(context.Background(), owner, CreateInput{MID: owner.MID, Name: "n", Type: tt.typ})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Key.Scopes, tt.want) || got.Key.Scopes == nil {
				t.Fatalf("scopes = %q, want %q", got.Key.Scopes, tt.want)
			}
			if !slices.Equal(st.created[0].Key.Scopes, tt.want) {
				t.Fatalf("stored scopes = %q", st.created[0].Key.Scopes)
			}
		})
	}
}

func TestCreateStoresDigestSealedValueAndMetadata(t *testing.T) {
	svc, st, se := newService()
	got, err := svc.Create(context.Background(), owner, CreateInput{MID: owner.MID, Name: "My API Key", Type: Secret, Scopes: []string{"charges:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.created) != 1 {
		t.Fatalf("%d keys stored", len(st.created))
	}
	nk := st.created[0]
	if nk.Digest != DigestOf(got.Value) {
		t.Fatal("stored digest is not SHA-256 of the value")
	}
	if nk.Key.LastFour != got.Value[len(got.Value)-4:] || nk.Key.ID != got.Key.ID || !nk.Key.CreatedAt.Equal(now) {
		t.Fatalf("stored record %+v", nk.Key)
	}
	if want := map[string]string{"mid": owner.MID, "key_id": got.Key.ID}; len(se.contexts) != 1 || se.contexts[0]["mid"] != want["mid"] || se.contexts[0]["key_id"] != want["key_id"] {
		t.Fatalf("encryption context = %v, want %v", se.contexts, want)
	}
	if nk.SealedExpiresAt == nil || !nk.SealedExpiresAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("secret sealed value expiry = %v, want 24 h", nk.SealedExpiresAt)
	}
	if got.Key.ID[:4] != "key_" || len(got.Key.ID) != 30 {
		t.Fatalf("id %q is not key_<ULID>", got.Key.ID)
	}
}

func TestCreatePublicValueIsKept(t *testing.T) {
	svc, st, _ := newService()
	if _, err := svc.Create(context.Background(), owner, CreateInput{MID: owner.MID, Name: "n", Type: Public}); err != nil {
		t.Fatal(err)
	}
	if st.created[0].SealedExpiresAt != nil {
		t.Fatal("a public key's sealed value must not expire")
	}
}

func TestCreateRefusesOtherMerchant(t *testing.T) {
	svc, st, _ := newService()
	_, err := svc.Create(context.Background(), owner, CreateInput{MID: "mid_other", Name: "n", Type: Secret})
	if !errors.Is(err, ErrForeignMerchant) || len(st.created) != 0 {
		t.Fatalf("err = %v, stored %d", err, len(st.created))
	}
}

func TestCreateRefusesEscalation(t *testing.T) {
	svc, st, _ := newService()
	_, err := svc.Create(context.Background(), owner, CreateInput{MID: owner.MID, Name: "n", Type: Secret, Scopes: []string{"charges:read", "refunds:write", "payments:write"}})
	var esc *EscalationError
	if !errors.As(err, &esc) || !slices.Equal(esc.Scopes, []string{"refunds:write", "payments:write"}) || len(st.created) != 0 {
		t.Fatalf("err = %v, stored %d", err, len(st.created))
	}
	caller := owner
	caller.Scopes = []string{"api-keys:write"}
	_, err = svc.Create(context.Background(), caller, CreateInput{MID: owner.MID, Name: "n", Type: Tokenization})
	if !errors.As(err, &esc) || !slices.Equal(esc.Scopes, []string{scope.Tokenize}) {
		t.Fatalf("tokenization key without tokenize scope: err = %v", err)
	}
}

func TestCreateRetriesDigestCollision(t *testing.T) {
	svc, st, _ := newService()
	st.collisions = 1
	if _, err := svc.Create(context.Background(), owner, CreateInput{MID: owner.MID, Name: "n", Type: Public}); err != nil {
		t.Fatal(err)
	}
	st.collisions = 5
	if _, err := svc.Create(context.Background(), owner, CreateInput{MID: owner.MID, Name: "n", Type: Public}); !errors.Is(err, ErrDuplicateDigest) {
		t.Fatalf("persistent collision: err = %v", err)
	}
}

func TestOnboardIssuesFullPair(t *testing.T) {
	svc, st, _ := newService()
	pub, sec, err := svc.Onboard(context.Background(), "mid_new", "Shop")
	if err != nil {
		t.Fatal(err)
	}
	if pub.Key.Type != Public || len(pub.Key.Scopes) != 0 || pub.Value[:8] != "pk_test_" {
		t.Fatalf("public key %+v", pub.Key)
	}
	if sec.Key.Type != Secret || !slices.Equal(sec.Key.Scopes, scope.All()) || sec.Value[:8] != "sk_test_" {
		t.Fatalf("secret key %+v", sec.Key)
	}
	if len(st.created) != 2 {
		t.Fatalf("stored %d keys", len(st.created))
	}
	if _, _, err := svc.Onboard(context.Background(), "bad mid", ""); err == nil {
		t.Fatal("bad mid accepted")
	}
}
