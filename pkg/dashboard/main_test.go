package dashboard_test

import (
	"os"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

func TestMain(m *testing.M) {
	code := apitest.Main(m)
	stopBrowser()
	os.Exit(code)
}
