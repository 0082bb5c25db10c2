package dynamostore

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/awserr"
)

// Names of transaction items. A cancelled transaction's reasons are read
// by these names, never by position, so adding or reordering items cannot
// change what a failure means.
const (
	itemRecord      = "record"          // a key record
	itemDigest      = "digest"          // a key's digest lookup (in a roll: the new value's)
	itemValue       = "value"           // a key's sealed value
	itemOldDigest   = "old digest"      // in a roll: the lookup of the value replaced
	itemEndedDigest = "ended digest"    // in a roll: the lookup of an earlier value whose grace ends
	itemPrevDigest  = "previous digest" // in a delete: the lookup of a value still in its grace
	itemIdemClaim   = "idempotency claim"
	itemOnboarding  = "onboarding claim"
	itemRefresh     = "refresh token"   // a new refresh token
	itemPresented   = "presented token" // the refresh token rotated or revoked
	itemFamily      = "family"          // a refresh family's revocation marker
	itemSecretKey   = "secret key"      // last_used on the secret key of an exchange
	itemPublicKey   = "public key"      // last_used on the public key of an exchange
	itemRate        = "token count"     // the secret key's count of tokens in the minute
)

// Cancellation codes of a transaction's items (TransactionCanceledException).
const (
	codeConditionFailed = "ConditionalCheckFailed"
	codeConflict        = "TransactionConflict"
)

// txn is one TransactWriteItems whose items are named.
type txn struct {
	names []string
	items []types.TransactWriteItem
}

// add appends item under name, which must be new to the transaction.
func (t *txn) add(name string, item types.TransactWriteItem) {
	if slices.Contains(t.names, name) {
		// Two items of one name would make their reasons unreadable: a
		// defect of this package, not of the request.
		panic("dynamostore: transaction item named twice: " + name)
	}
	t.names = append(t.names, name)
	t.items = append(t.items, item)
}

// write runs t in one TransactWriteItems. When DynamoDB cancels it, reasons
// holds each item's cancellation code by name and err is the cancellation;
// otherwise reasons is nil.
func (st *Store) write(ctx context.Context, t *txn) (reasons, error) {
	_, err := awserr.Call(ctx, st.Client.TransactWriteItems, &dynamodb.TransactWriteItemsInput{TransactItems: t.items})
	return t.reasons(err), err
}

// reasons names the cancellation reasons of err, which DynamoDB lists in
// the order of the items; nil when err is not a cancelled transaction.
func (t *txn) reasons(err error) reasons {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	out := make(reasons, len(t.names))
	for i, r := range tce.CancellationReasons {
		if i < len(t.names) {
			out[t.names[i]] = aws.ToString(r.Code)
		}
	}
	return out
}

// reasons are a cancelled transaction's cancellation codes by item name:
// "None" for an item that did not cancel it, else "ConditionalCheckFailed",
// "TransactionConflict"...
type reasons map[string]string

// failed reports whether any of the named items failed its condition.
func (r reasons) failed(names ...string) bool {
	for _, name := range names {
		if r[name] == codeConditionFailed {
			return true
		}
	}
	return false
}

// lost reports whether the named item failed its condition or met another
// transaction on its item: either way another writer got there first.
func (r reasons) lost(name string) bool {
	return r[name] == codeConditionFailed || r[name] == codeConflict
}
