// Command leakreport posts a secret-scanning report to a local API as
// GitHub would: signed with the development key that `make dev` serves as
// GitHub's key document. It shows a leaked key being revoked:
//
//	go run ./infra/cmd/leakreport -token sk_test_...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/flexfactor/credplane/infra/leakdemo"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:3000", "the API's base URL")
	tok := flag.String("token", "", "the leaked key value to report (required)")
	keyPath := flag.String("key", leakdemo.DefaultKeyPath, "the development signing key")
	where := flag.String("url", "https://github.com/octo-org/octo-repo/blob/main/.env", "where the value was found")
	flag.Parse()
	if *tok == "" {
		fmt.Fprintln(os.Stderr, "leakreport: -token is required")
		os.Exit(2)
	}
	if err := run(*base, *tok, *keyPath, *where); err != nil {
		fmt.Fprintln(os.Stderr, "leakreport:", err)
		os.Exit(1)
	}
}

func run(base, tok, keyPath, where string) error {
	k, err := leakdemo.LoadOrCreateKey(keyPath)
	if err != nil {
		return err
	}
	body, keyID, sig, err := leakdemo.Sign(k, leakdemo.Report{Token: tok, Type: "flexfactor_secret_key", URL: where, Source: "commit"})
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, base+"/v1/secret-scanning/github", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Github-Public-Key-Identifier", keyID)
	req.Header.Set("Github-Public-Key-Signature", sig)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s\n%s", resp.Status, answer)
	return nil
}
