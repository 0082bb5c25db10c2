package dynamostore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func cancelled(codes ...string) error {
	tce := &types.TransactionCanceledException{}
	for _, c := range codes {
		tce.CancellationReasons = append(tce.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return fmt.Errorf("operation error DynamoDB: TransactWriteItems: %w", tce)
}

func TestReasonsAreReadByName(t *testing.T) {
	var tx txn
	for _, name := range []string{itemPresented, itemRefresh, itemFamily} {
		tx.add(name, types.TransactWriteItem{})
	}
	why := tx.reasons(cancelled("TransactionConflict", "None", "ConditionalCheckFailed"))
	if !why.failed(itemFamily) || !why.failed(itemRecord, itemFamily) || why.failed(itemRefresh) || why.failed(itemPresented) {
		t.Errorf("failed: %v", why)
	}
	if !why.lost(itemPresented) || !why.lost(itemFamily) || why.lost(itemRefresh) {
		t.Errorf("lost: %v", why)
	}
	for _, err := range []error{nil, errors.New("boom")} {
		if why := tx.reasons(err); why != nil || why.failed(itemFamily) || why.lost(itemPresented) {
			t.Errorf("%v: reasons %v", err, why)
		}
	}
}

func TestAddRefusesANameTwice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a second item of one name was added")
		}
	}()
	var tx txn
	tx.add(itemRecord, types.TransactWriteItem{})
	tx.add(itemRecord, types.TransactWriteItem{})
}
