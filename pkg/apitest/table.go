package apitest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/dynamostore"
)

// Item is a table item as the SDK returns it.
type Item = map[string]types.AttributeValue

// TableItem reads one item straight from the table (strongly consistent).
func TableItem(t testing.TB, pk, sk string) Item {
	t.Helper()
	out, err := Env().Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(Env().Config.TableName),
		Key:            Item{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// KeyRecord reads a key's record from the table.
func KeyRecord(t testing.TB, id string) Item {
	t.Helper()
	return TableItem(t, "KEY#"+id, "META")
}

// DigestLookup reads the lookup item of a key value (nil when absent).
func DigestLookup(t testing.TB, value string) Item {
	t.Helper()
	d := sha256.Sum256([]byte(value))
	return TableItem(t, "DIGEST#"+hex.EncodeToString(d[:]), "DIGEST")
}

// RefreshItem reads a refresh token's record from the table.
func RefreshItem(t testing.TB, rt string) Item {
	t.Helper()
	d := sha256.Sum256([]byte(rt))
	return TableItem(t, "REFRESH#"+hex.EncodeToString(d[:]), "REFRESH")
}

// AttrS reads a string attribute ("" when absent).
func AttrS(item Item, name string) string {
	v, _ := item[name].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

// AttrBool reads a boolean attribute and whether it is there.
func AttrBool(item Item, name string) (value, present bool) {
	v, ok := item[name].(*types.AttributeValueMemberBOOL)
	if !ok {
		return false, false
	}
	return v.Value, true
}

// AttrN reads a number attribute as written ("" when absent).
func AttrN(item Item, name string) string {
	v, _ := item[name].(*types.AttributeValueMemberN)
	if v == nil {
		return ""
	}
	return v.Value
}

// AssertKeyCount checks how many key records the merchant has, read
// straight from the table's merchant index.
func AssertKeyCount(t testing.TB, m Merchant, want int) {
	t.Helper()
	if n := KeyCount(t, m); n != want {
		t.Fatalf("merchant %s has %d keys, want %d", m.MID, n, want)
	}
}

// KeyCount is how many key records the merchant has, read straight from
// the table's merchant index.
func KeyCount(t testing.TB, m Merchant) int {
	t.Helper()
	out, err := Env().Clients.DynamoDB.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(Env().Config.TableName),
		IndexName:              aws.String(dynamostore.IndexGSI1),
		KeyConditionExpression: aws.String("gsi1pk = :m"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":m": &types.AttributeValueMemberS{Value: "MID#" + m.MID},
		},
		Select: types.SelectCount,
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

// SetExpired gives a key an expiry in the past, on its record and on its
// value's digest item, as an expired key has (no route makes a key expire
// early; a test that cannot move the stack's clock uses this).
func SetExpired(t testing.TB, id, value string) {
	t.Helper()
	past := &types.AttributeValueMemberS{Value: time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)}
	d := sha256.Sum256([]byte(value))
	set := func(pk, sk string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(Env().Config.TableName), Key: Item{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
			UpdateExpression: aws.String("SET expires_at = :p"), ExpressionAttributeValues: Item{":p": past},
		}}
	}
	_, err := Env().Clients.DynamoDB.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		set("KEY#"+id, "META"), set("DIGEST#"+hex.EncodeToString(d[:]), "DIGEST"),
	}})
	if err != nil {
		t.Fatal(err)
	}
}
