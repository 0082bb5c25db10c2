package memstore_test

import (
	"testing"

	"github.com/flexfactor/credplane/pkg/memstore"
	"github.com/flexfactor/credplane/pkg/storetest"
)

// The zero Store is an empty store; each case gets its own.
func TestStoreConforms(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return &memstore.Store{} })
}
