package dynamostore_test

import (
	"testing"

	"github.com/flexfactor/credplane/pkg/storetest"
)

// TestStoreConforms holds the adapter to the ports' contract on DynamoDB
// Local; the cases share the test table, each with merchants of its own.
func TestStoreConforms(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return store() })
}
