package apitest

import (
	"context"
	"net"
	"testing"

	"github.com/flexfactor/credplane/pkg/app"
	"github.com/flexfactor/credplane/pkg/config"
)

// DynamoDBDown returns the real stack on the emulators with DynamoDB
// unreachable (a port nothing listens on); KMS stays up.
func DynamoDBDown(t testing.TB) app.Deps {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := Deps(nil)
	d.Config.DynamoDBEndpoint = "http://" + ln.Addr().String()
	ln.Close()
	clients, err := config.NewClients(context.Background(), d.Config)
	if err != nil {
		t.Fatal(err)
	}
	d.Clients.DynamoDB = clients.DynamoDB
	return d
}
