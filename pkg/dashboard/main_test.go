package dashboard_test

import (
	"os"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }
