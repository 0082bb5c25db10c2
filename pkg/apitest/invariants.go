package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awskms"
)

// Table is every item of the stage's table, read at one moment, by
// primary key.
type Table map[[2]string]Item

// ReadTable reads the whole table (a strongly consistent scan): tests that
// check many merchants' items read it once.
func ReadTable(t testing.TB) Table {
	t.Helper()
	in := &dynamodb.ScanInput{TableName: aws.String(Env().Config.TableName), ConsistentRead: aws.Bool(true)}
	tbl := Table{}
	for {
		out, err := Env().Clients.DynamoDB.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			tbl[[2]string{AttrS(it, "pk"), AttrS(it, "sk")}] = it
		}
		if out.LastEvaluatedKey == nil {
			return tbl
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// get is the item at pk / sk, nil when there is none.
func (tbl Table) get(pk, sk string) Item { return tbl[[2]string{pk, sk}] }

// AssertInvariants fails on any state of merchant mid's items that no
// complete write leaves behind, so that a test can prove a failed request
// wrote all or nothing:
//   - a live key record has its digest lookup (same key, same
//     generation), and the lookup of a value in its grace period when it
//     names one; a revoked record has neither;
//   - every digest lookup is the current or grace value of a live record;
//   - every record's sealed value is there and opens to the record's
//     current value;
//   - a refresh family not revoked has exactly one token not yet rotated,
//     and a family has a revocation marker exactly when one of its tokens
//     is revoked;
//   - last_used moves only with a refresh token issued at that second,
//     on both keys of the exchange;
//   - a completed idempotency claim names a key of the merchant.
func (tbl Table) AssertInvariants(t testing.TB, mid string) {
	t.Helper()
	var records, lookups, tokens, claims []Item
	for _, it := range tbl {
		if AttrS(it, "mid") != mid {
			continue
		}
		switch AttrS(it, "sk") {
		case "META":
			records = append(records, it)
		case "DIGEST":
			lookups = append(lookups, it)
		case "REFRESH":
			tokens = append(tokens, it)
		case "IDEM":
			claims = append(claims, it)
		}
	}
	byID := map[string]Item{}
	for _, r := range records {
		byID[AttrS(r, "id")] = r
		tbl.checkRecord(t, mid, r)
	}
	for _, l := range lookups {
		r := byID[AttrS(l, "key_id")]
		if r == nil || revoked(r) || (!bytes.Equal(AttrB(l, "digest"), AttrB(r, "digest")) && !bytes.Equal(AttrB(l, "digest"), AttrB(r, "previous_digest"))) {
			t.Fatalf("digest lookup %s of key %s is not a live value of its record", AttrS(l, "pk"), AttrS(l, "key_id"))
		}
	}
	tbl.checkRefresh(t, byID, tokens)
	for _, c := range claims {
		if AttrS(c, "state") == "done" && byID[AttrS(c, "key_id")] == nil {
			t.Fatalf("idempotency claim %s is done with key %s, which does not exist", AttrS(c, "pk"), AttrS(c, "key_id"))
		}
	}
}

// checkRecord checks a key record against its lookups and sealed value.
func (tbl Table) checkRecord(t testing.TB, mid string, r Item) {
	t.Helper()
	id, gen := AttrS(r, "id"), generationOf(r)
	lookup := tbl.get("DIGEST#"+hex.EncodeToString(AttrB(r, "digest")), "DIGEST")
	prev := AttrB(r, "previous_digest")
	var grace Item
	if prev != nil {
		grace = tbl.get("DIGEST#"+hex.EncodeToString(prev), "DIGEST")
	}
	switch {
	case revoked(r) && (lookup != nil || grace != nil):
		t.Fatalf("revoked key %s still has a digest lookup", id)
	case revoked(r):
	case lookup == nil || AttrS(lookup, "key_id") != id || AttrS(lookup, "mid") != mid || generationOf(lookup) != gen:
		t.Fatalf("key %s (generation %s) has no digest lookup of its current value: %v", id, gen, lookup)
	case prev != nil && (grace == nil || AttrS(grace, "key_id") != id || AttrS(grace, "valid_until") != AttrS(r, "previous_valid_until")):
		t.Fatalf("key %s names a value in its grace period without its lookup: %v", id, grace)
	}
	sealed := tbl.get("KEY#"+id, "VALUE")
	if sealed == nil {
		t.Fatalf("key %s has no sealed value", id)
	}
	e := Env()
	env := &awskms.Envelope{Client: e.Clients.KMS, KeyID: e.Config.DataKeyID}
	plain, err := env.Open(context.Background(), apikey.Sealed{EncryptedKey: AttrB(sealed, "edk"), Nonce: AttrB(sealed, "nonce"), Ciphertext: AttrB(sealed, "ct")}, apikey.EncryptionContext(mid, id))
	if err != nil {
		t.Fatalf("key %s: sealed value: %v", id, err)
	}
	if d := sha256.Sum256(plain); !bytes.Equal(d[:], AttrB(r, "digest")) {
		t.Fatalf("key %s: the sealed value is not the record's current value", id)
	}
}

// checkRefresh checks the refresh tokens of a merchant against its keys.
func (tbl Table) checkRefresh(t testing.TB, keys map[string]Item, tokens []Item) {
	t.Helper()
	families := map[string][]Item{}
	issued := map[string]bool{} // key id + issued_at of every token
	for _, tok := range tokens {
		families[AttrS(tok, "family")] = append(families[AttrS(tok, "family")], tok)
		at := AttrS(tok, "issued_at")
		for _, attr := range []string{"secret_key_id", "public_key_id"} {
			id := AttrS(tok, attr)
			k := keys[id]
			if k == nil {
				t.Fatalf("refresh token %s names key %s, which does not exist", AttrS(tok, "pk"), id)
			}
			// RFC 3339 UTC stamps to the second compare as strings.
			if AttrS(k, "last_used") < at {
				t.Fatalf("refresh token %s was issued at %s, but key %s was last used at %q", AttrS(tok, "pk"), at, id, AttrS(k, "last_used"))
			}
			issued[id+"@"+at] = true
		}
	}
	for family, toks := range families {
		marker := tbl.get("FAMILY#"+family, "REVOKED")
		var live, revokedTokens, kept int
		for _, tok := range toks {
			if AttrS(tok, "withdrawn_at") != "" {
				continue // never handed out: as if it had not been written
			}
			kept++
			if AttrS(tok, "rotated_at") == "" {
				live++
			}
			if AttrS(tok, "revoked_at") != "" {
				revokedTokens++
			}
		}
		switch {
		case kept == 0 && marker == nil:
			// only withdrawn tokens: a family that was never handed out
		case marker == nil && revokedTokens > 0:
			t.Fatalf("refresh family %s has a revoked token but no revocation marker", family)
		case marker != nil && revokedTokens == 0:
			t.Fatalf("refresh family %s is marked revoked, but none of its tokens is", family)
		case marker == nil && live != 1:
			t.Fatalf("refresh family %s has %d tokens not rotated, want 1", family, live)
		}
	}
	for id, k := range keys {
		if at := AttrS(k, "last_used"); at != "" && !issued[id+"@"+at] {
			t.Fatalf("key %s was last used at %s, with no refresh token issued then", id, at)
		}
	}
}

func revoked(r Item) bool {
	v, _ := AttrBool(r, "revoked")
	return v
}

// generationOf reads an item's generation; one written before
// generations were kept has none and is the first.
func generationOf(it Item) string {
	if g := AttrN(it, "generation"); g != "" && g != "0" {
		return g
	}
	return "1"
}

// AttrB reads a binary attribute (nil when absent).
func AttrB(item Item, name string) []byte {
	v, _ := item[name].(*types.AttributeValueMemberB)
	if v == nil {
		return nil
	}
	return v.Value
}
