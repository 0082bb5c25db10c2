package dynamostore

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/auth"
)

// attrCount is the number of tokens a secret key obtained in a minute.
const attrCount = "count"

const skRate = "RATE"

// ratePK is the partition of a secret key's count of tokens in one minute.
// The minute is part of the partition key, so that each minute's count is
// an item of its own, never reset and never read: the transaction's
// condition is the only reader.
func ratePK(keyID string, minute time.Time) string {
	return "RATE#" + keyID + "#" + minute.UTC().Format("2006-01-02T15:04Z")
}

// countToken is the transaction item that counts one token of the secret
// key in the minute of at, on the condition that fewer than limit were
// counted. The item expires at the end of its minute: nothing needs it
// after that.
func (st *Store) countToken(keyID string, at time.Time, limit int) types.TransactWriteItem {
	minute := auth.TokenMinute(at)
	count := name(attrCount)
	return st.update(key{ratePK(keyID, minute), skRate},
		expression.Add(count, value(1)).Set(name(AttrTTL), value(minute.Add(time.Minute).Unix())),
		expression.Or(count.AttributeNotExists(), count.LessThan(value(limit))))
}

// uncountToken is the transaction item that takes back a token counted by
// countToken for the secret key in the minute of at.
func (st *Store) uncountToken(keyID string, at time.Time) types.TransactWriteItem {
	count := name(attrCount)
	return st.update(key{ratePK(keyID, auth.TokenMinute(at)), skRate},
		expression.Add(count, value(-1)),
		count.GreaterThan(value(0)))
}
