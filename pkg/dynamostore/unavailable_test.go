package dynamostore_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/config"
	"github.com/flexfactor/credplane/pkg/dynamostore"
)

// TestErrorsAreClassified: a DynamoDB that cannot be reached is
// apikey.ErrUnavailable; a refusal (here: no such table) is not.
func TestErrorsAreClassified(t *testing.T) {
	port, err := emulator.FreePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.Config
	cfg.DynamoDBEndpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	dead, err := config.NewClients(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	down := &dynamostore.Store{Client: dead.DynamoDB, Table: env.Config.TableName}
	if _, err := down.GetKey(bg, "key_x"); !errors.Is(err, apikey.ErrUnavailable) {
		t.Fatalf("unreachable: err = %v, want ErrUnavailable", err)
	}
	nk, _ := newKey(t, "mid_down", apikey.Public)
	if err := down.CreateKey(bg, nk); !errors.Is(err, apikey.ErrUnavailable) {
		t.Fatalf("unreachable transaction: err = %v, want ErrUnavailable", err)
	}

	missing := &dynamostore.Store{Client: env.Clients.DynamoDB, Table: "no-such-table"}
	if _, err := missing.GetKey(bg, "key_x"); err == nil || errors.Is(err, apikey.ErrUnavailable) {
		t.Fatalf("no such table: err = %v, want a failure that is not ErrUnavailable", err)
	}
}
