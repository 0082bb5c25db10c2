package dynamostore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/auth"
)

// fixedNow is in a zone other than UTC and has a fraction of a second: the
// store keeps UTC seconds.
var fixedNow = time.Date(2024, 11, 16, 13, 0, 0, 789_000_000, time.FixedZone("CET", 3600))

func at(d time.Duration) *time.Time { t := fixedNow.Add(d); return &t }

func digest(b byte) apikey.Digest {
	var d apikey.Digest
	d[0], d[31] = b, 0xf0
	return d
}

func sealed(s string) apikey.Sealed {
	return apikey.Sealed{EncryptedKey: []byte("edk-" + s), Nonce: []byte("nonce-" + s), Ciphertext: []byte("ct-" + s)}
}

// TestStoredFormat writes every kind of item through the store, changes
// them as rolls, deletes, exchanges, rotations, revocations, idempotent
// creates and onboardings do, and compares the items as stored with
// testdata/items.golden: attribute names, types and formats (RFC 3339 UTC
// seconds, epoch-second ttl, binary digests, numbered generations) are what
// every existing item holds, so they never change. What the store reads
// back from them is compared with testdata/read.golden.
func TestStoredFormat(t *testing.T) {
	ctx := context.Background()
	st := store()

	// An idempotent create of a secret key with an expiry, and a public key
	// created without scopes.
	claim := apikey.IdempotencyClaim{MID: "mid_fmt", CallerKeyID: "key_fmt_caller", Key: "order-1", Token: "tok-1",
		At: fixedNow, LockedUntil: fixedNow.Add(30*time.Second + 250*time.Millisecond), ExpiresAt: fixedNow.Add(24 * time.Hour)}
	claim.Fingerprint[0] = 0xfe
	must(t, func() error { _, err := st.ClaimIdempotencyKey(ctx, claim); return err })
	sec := apikey.NewKey{
		Key: apikey.Key{ID: "key_fmt_sec", MID: "mid_fmt", Name: "Server key", Type: apikey.Secret, Scopes: []string{"charges:read", "charges:write"},
			CreatedAt: fixedNow, ExpiresAt: at(90 * 24 * time.Hour), LastFour: "ABCD", Generation: apikey.FirstGeneration},
		Digest: digest(1), Sealed: sealed("sec"), SealedExpiresAt: at(24 * time.Hour), Claim: &claim,
	}
	pub := apikey.NewKey{
		Key:    apikey.Key{ID: "key_fmt_pub", MID: "mid_fmt", Name: "", Type: apikey.Public, CreatedAt: fixedNow, LastFour: "EFGH", Generation: apikey.FirstGeneration},
		Digest: digest(2), Sealed: sealed("pub"),
	}
	must(t, func() error { return st.CreateKey(ctx, sec) })
	must(t, func() error { return st.CreateKey(ctx, pub) })

	// A pending claim taken over by another request.
	other := claim
	other.Key, other.Token = "order-2", "tok-2"
	must(t, func() error { _, err := st.ClaimIdempotencyKey(ctx, other); return err })
	other.Token, other.LockedUntil = "tok-3", fixedNow.Add(time.Minute)
	must(t, func() error { return st.TakeOverIdempotencyKey(ctx, other, "tok-2") })

	// An exchange, a rotation (each counted in its minute) and the
	// revocation of the family.
	refresh := func(b byte) auth.RefreshRecord {
		r := auth.RefreshRecord{FamilyID: "fam_fmt", SecretKeyID: sec.Key.ID, PublicKeyID: pub.Key.ID, SecretGen: 1, PublicGen: 1, MID: "mid_fmt",
			Scope: "charges:read", AuthTime: fixedNow, ValidUntil: at(2 * time.Hour), IssuedAt: fixedNow.Add(time.Duration(b) * time.Minute), ExpiresAt: fixedNow.Add(time.Hour)}
		r.Digest[0] = b
		return r
	}
	must(t, func() error { return st.RecordExchange(ctx, refresh(1), unlimited) })
	must(t, func() error { return st.RotateRefresh(ctx, refresh(1).Digest, refresh(2), unlimited) })
	must(t, func() error {
		return st.RevokeFamily(ctx, refresh(2), fixedNow.Add(3*time.Minute), fixedNow.Add(48*time.Hour), nil)
	})

	// A roll that keeps the old value for a grace period, then a delete.
	rolled := sec.Key
	rolled.LastFour, rolled.RolledAt, rolled.PreviousValidUntil, rolled.Generation = "IJKL", at(4*time.Minute), at(time.Hour), 2
	must(t, func() error {
		return st.RollKey(ctx, apikey.Rollover{Key: rolled, OldDigest: sec.Digest, NewDigest: digest(3), KeepOld: true, Sealed: sealed("sec2")})
	})
	// The public key's delete leaves its record only.
	must(t, func() error {
		return st.RevokeKey(ctx, apikey.Revocation{ID: pub.Key.ID, Digest: pub.Digest, PreviousDigest: new(digest(9)), At: fixedNow.Add(5 * time.Minute)})
	})

	// An onboarding.
	ob := apikey.Onboarding{
		Public: apikey.NewKey{Key: apikey.Key{ID: "key_fmt_obpub", MID: "mid_fmt_ob", Name: "Default", Type: apikey.Public, Scopes: []string{},
			CreatedAt: fixedNow, LastFour: "MNOP", Generation: 1}, Digest: digest(4), Sealed: sealed("obpub")},
		Secret: apikey.NewKey{Key: apikey.Key{ID: "key_fmt_obsec", MID: "mid_fmt_ob", Name: "Default", Type: apikey.Secret, Scopes: []string{"charges:read"},
			CreatedAt: fixedNow, LastFour: "QRST", Generation: 1}, Digest: digest(5), Sealed: sealed("obsec"), SealedExpiresAt: at(24 * time.Hour)},
	}
	must(t, func() error { return st.Onboard(ctx, ob) })

	// Two rolls of the onboarded secret: one with a grace period, one that
	// ends it and keeps no old value.
	obsec := ob.Secret.Key
	obsec.LastFour, obsec.RolledAt, obsec.PreviousValidUntil, obsec.Generation = "UVWX", at(6*time.Minute), at(time.Hour), 2
	must(t, func() error {
		return st.RollKey(ctx, apikey.Rollover{Key: obsec, OldDigest: digest(5), NewDigest: digest(7), KeepOld: true, Sealed: sealed("obsec2")})
	})
	obsec.LastFour, obsec.RolledAt, obsec.PreviousValidUntil, obsec.Generation = "YZAB", at(7*time.Minute), at(7*time.Minute), 3
	must(t, func() error {
		return st.RollKey(ctx, apikey.Rollover{Key: obsec, OldDigest: digest(7), NewDigest: digest(8), Ended: new(digest(5)),
			Sealed: sealed("obsec3"), SealedExpiresAt: at(24 * time.Hour)})
	})

	idem := func(c apikey.IdempotencyClaim) string {
		h := sha256.Sum256([]byte(c.Key))
		return "IDEM#" + c.MID + "#" + c.CallerKeyID + "#" + hex.EncodeToString(h[:])
	}
	refreshPK := func(b byte) string { r := refresh(b); return "REFRESH#" + hex.EncodeToString(r.Digest[:]) }
	digestPK := func(b byte) string { d := digest(b); return "DIGEST#" + hex.EncodeToString(d[:]) }
	got := dump(t,
		"KEY#key_fmt_sec", "KEY#key_fmt_pub", digestPK(1), digestPK(2), digestPK(3), idem(claim), idem(other),
		refreshPK(1), refreshPK(2), "FAMILY#fam_fmt", "RATE#key_fmt_sec#2024-11-16T12:01Z", "RATE#key_fmt_sec#2024-11-16T12:02Z",
		"MID#mid_fmt_ob", "KEY#key_fmt_obpub", "KEY#key_fmt_obsec", digestPK(4), digestPK(5), digestPK(7), digestPK(8), digestPK(9))
	want, err := os.ReadFile("testdata/items.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("stored items differ from testdata/items.golden; stored:\n%s", got)
	}

	// What the store reads back from those items.
	read := map[string]any{}
	for _, id := range []string{"key_fmt_sec", "key_fmt_pub", "key_fmt_obsec"} {
		k, err := st.GetKey(ctx, id)
		read["GetKey "+id] = result(k, err)
	}
	for _, pair := range [][2]byte{{1, 3}, {4, 8}} {
		a, b, err := st.LookupCredentials(ctx, digest(pair[0]), digest(pair[1]))
		read[fmt.Sprintf("LookupCredentials %d %d", pair[0], pair[1])] = result([]*auth.Credential{a, b}, err)
	}
	for _, b := range []byte{1, 2} {
		r, err := st.LookupRefresh(ctx, refresh(b).Digest)
		read[fmt.Sprintf("LookupRefresh %d", b)] = result(r, err)
	}
	states, err := st.KeyStates(ctx, "key_fmt_sec", "key_fmt_pub", "key_fmt_obsec")
	read["KeyStates"] = result(states, err)
	keys, more, err := st.ListKeys(ctx, apikey.KeyQuery{MID: "mid_fmt", Limit: 5, IncludeRevoked: true})
	read["ListKeys"] = result(map[string]any{"keys": keys, "more": more}, err)
	onboarded, err := st.OnboardingClaim(ctx, "mid_fmt_ob")
	read["OnboardingClaim"] = result(onboarded, err)
	for _, c := range []apikey.IdempotencyClaim{claim, other} {
		c.Token = "tok-new"
		prior, err := st.ClaimIdempotencyKey(ctx, c)
		read["ClaimIdempotencyKey "+c.Key] = result(prior, err)
	}
	var gotRead strings.Builder
	for _, name := range slices.Sorted(maps.Keys(read)) {
		j, err := json.Marshal(read[name])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&gotRead, "%s: %s\n", name, j)
	}
	if want, err := os.ReadFile("testdata/read.golden"); err != nil || gotRead.String() != string(want) {
		t.Fatalf("read back differs from testdata/read.golden (%v); read:\n%s", err, gotRead.String())
	}
}

// result is what a read returned, for the golden file.
func result(v any, err error) any {
	if err != nil {
		return "error: " + err.Error()
	}
	return v
}

// TestReadsItemsWithoutGenerations: records and lookups written before
// generations were kept read as the first generation (and admit it), a
// refresh token written before auth_time was kept was authenticated when
// it was issued.
func TestReadsItemsWithoutGenerations(t *testing.T) {
	ctx := context.Background()
	st := store()
	sv := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	scopes := &types.AttributeValueMemberL{Value: []types.AttributeValue{sv("charges:read")}}
	d, refreshDigest := digest(10), [32]byte{0x0a}
	record := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": sv("KEY#" + id), "sk": sv("META"), "gsi1pk": sv("MID#mid_fmt_old"), "gsi1sk": sv(id), "id": sv(id),
			"mid": sv("mid_fmt_old"), "name": sv("Old"), "type": sv("secret"), "scopes": scopes, "revoked": &types.AttributeValueMemberBOOL{Value: false},
			"created_at": sv("2023-01-02T03:04:05Z"), "last_four": sv("OLD1"), "digest": &types.AttributeValueMemberB{Value: d[:]}}
	}
	for _, item := range []map[string]types.AttributeValue{
		record("key_fmt_old"), record("key_fmt_old2"),
		{"pk": sv("DIGEST#" + hex.EncodeToString(d[:])), "sk": sv("DIGEST"), "digest": &types.AttributeValueMemberB{Value: d[:]},
			"key_id": sv("key_fmt_old"), "mid": sv("mid_fmt_old"), "type": sv("secret"), "scopes": scopes},
		{"pk": sv("REFRESH#" + hex.EncodeToString(refreshDigest[:])), "sk": sv("REFRESH"), "family": sv("fam_old"), "secret_key_id": sv("key_fmt_old"),
			"public_key_id": sv("key_fmt_old2"), "mid": sv("mid_fmt_old"), "scope": sv("charges:read"),
			"issued_at": sv("2023-01-02T03:04:05Z"), "expires_at": sv("2023-01-02T04:04:05Z")},
	} {
		if _, err := env.Clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Config.TableName), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)

	k, err := st.GetKey(ctx, "key_fmt_old")
	if err != nil || k.Key.Generation != apikey.FirstGeneration || !k.Key.CreatedAt.Equal(created) || k.Key.Name != "Old" || !k.Digest.Equal(d) {
		t.Fatalf("record: %+v %v", k.Key, err)
	}
	c, _, err := st.LookupCredentials(ctx, d, digest(11))
	if err != nil || c == nil || c.Generation != apikey.FirstGeneration || c.KeyID != "key_fmt_old" || !slices.Equal(c.Scopes, []string{"charges:read"}) {
		t.Fatalf("lookup: %+v %v", c, err)
	}
	states, err := st.KeyStates(ctx, "key_fmt_old")
	if s := states["key_fmt_old"]; err != nil || s.Generation != apikey.FirstGeneration || s.MID != "mid_fmt_old" || s.Revoked || s.RolledAt != nil {
		t.Fatalf("state: %+v %v", states, err)
	}
	r, err := st.LookupRefresh(ctx, refreshDigest)
	if err != nil || r == nil || !r.AuthTime.Equal(created) || !r.IssuedAt.Equal(created) || r.SecretGen != 0 || r.FamilyID != "fam_old" {
		t.Fatalf("refresh: %+v %v", r, err)
	}

	exchange := auth.RefreshRecord{FamilyID: "fam_old2", SecretKeyID: "key_fmt_old", PublicKeyID: "key_fmt_old2", SecretGen: 1, PublicGen: 1,
		MID: "mid_fmt_old", AuthTime: fixedNow, IssuedAt: fixedNow, ExpiresAt: fixedNow.Add(time.Hour)}
	exchange.Digest[0] = 0x0b
	if err := st.RecordExchange(ctx, exchange, unlimited); err != nil {
		t.Fatalf("an exchange of the first generation: %v", err)
	}
	exchange.Digest[0], exchange.SecretGen = 0x0c, 2
	if err := st.RecordExchange(ctx, exchange, unlimited); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("an exchange of the second generation: %v", err)
	}
}

func must(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

// dump renders every item under the partition keys, in that order and by
// sort key, one attribute a line in name order.
func dump(t *testing.T, pks ...string) string {
	t.Helper()
	var b strings.Builder
	for _, pk := range pks {
		items := partition(t, pk)
		if len(items) == 0 {
			fmt.Fprintf(&b, "%s: no items\n", pk)
		}
		for _, item := range items {
			for _, name := range slices.Sorted(maps.Keys(item)) {
				fmt.Fprintf(&b, "  %s: %s\n", name, render(item[name]))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func render(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return "S " + strconv.Quote(v.Value)
	case *types.AttributeValueMemberN:
		return "N " + v.Value
	case *types.AttributeValueMemberB:
		return "B " + hex.EncodeToString(v.Value)
	case *types.AttributeValueMemberBOOL:
		return "BOOL " + strconv.FormatBool(v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberL:
		elems := make([]string, len(v.Value))
		for i, e := range v.Value {
			elems[i] = render(e)
		}
		return "L [" + strings.Join(elems, ", ") + "]"
	}
	return fmt.Sprintf("%T", av)
}
