package awskms_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/flexfactor/credplane/infra/emulator"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awskms"
	"github.com/flexfactor/credplane/pkg/config"
)

// TestErrorsAreClassified: a KMS that cannot be reached is
// apikey.ErrUnavailable; a refusal (here: no such key) is not.
func TestErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	port, err := emulator.FreePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.Config
	cfg.KMSEndpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	dead, err := config.NewClients(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	down := &awskms.Signer{Client: dead.KMS, KeyARN: env.Config.SigningKeyID}
	if _, err := down.SignDigest(ctx, make([]byte, 32)); !errors.Is(err, apikey.ErrUnavailable) {
		t.Fatalf("unreachable: err = %v, want ErrUnavailable", err)
	}
	if _, err := awskms.PublicKeys(dead.KMS, env.Config.SigningKeyID)(ctx); !errors.Is(err, apikey.ErrUnavailable) {
		t.Fatalf("unreachable public key: err = %v, want ErrUnavailable", err)
	}

	unknown := &awskms.Signer{Client: env.Clients.KMS, KeyARN: "alias/no-such-key"}
	if _, err := unknown.SignDigest(ctx, make([]byte, 32)); err == nil || errors.Is(err, apikey.ErrUnavailable) {
		t.Fatalf("no such key: err = %v, want a failure that is not ErrUnavailable", err)
	}
}
