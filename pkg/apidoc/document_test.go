package apidoc_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flexfactor/credplane/pkg/apidoc"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/scope"
	"github.com/getkin/kin-openapi/openapi3"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(apidoc.Document)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestDocumentIsValidOpenAPI31: kin-openapi (which reads OpenAPI 3.1 and
// validates its schemas and examples as JSON Schema 2020-12) finds the
// document valid.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	doc := load(t)
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestDocumentPassesOpenAPISpecValidator runs the reference Python
// validator, which checks the document against the OpenAPI 3.1 schema.
func TestDocumentPassesOpenAPISpecValidator(t *testing.T) {
	bin, err := exec.LookPath("openapi-spec-validator")
	if err != nil {
		t.Skip("openapi-spec-validator is not installed (pip install openapi-spec-validator); kin-openapi's check still ran")
	}
	path := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(path, apidoc.Document, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, path).CombinedOutput(); err != nil {
		t.Fatalf("openapi-spec-validator: %v\n%s", err, out)
	}
}

// TestDocumentCataloguesMatchTheCode: the enumerations the document gives
// clients are the code's.
func TestDocumentCataloguesMatchTheCode(t *testing.T) {
	doc := load(t)
	enum := func(name string) []string {
		var out []string
		for _, v := range doc.Components.Schemas[name].Value.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	if got := enum("Scope"); !slices.Equal(got, scope.All()) {
		t.Errorf("Scope enum %v, want %v", got, scope.All())
	}
	if got, want := enum("KeyType"), []string{string(apikey.Secret), string(apikey.Public), string(apikey.Tokenization)}; !slices.Equal(got, want) {
		t.Errorf("KeyType enum %v, want %v", got, want)
	}
	if got, want := enum("KeyStatus"), []string{string(apikey.Active), string(apikey.Revoked), string(apikey.Expired)}; !slices.Equal(got, want) {
		t.Errorf("KeyStatus enum %v, want %v", got, want)
	}
	oauth := doc.Components.SecuritySchemes["oauth2"].Value.Flows.ClientCredentials.Scopes
	if got := slices.Sorted(maps.Keys(oauth)); !slices.Equal(got, slices.Sorted(slices.Values(scope.All()))) {
		t.Errorf("oauth2 scopes %v, want the catalogue", got)
	}
}

// TestDocumentExamplesAreNoRealKeys: example key values have the shape of
// real ones but a wrong checksum, so that neither secret scanners nor this
// service take them for keys.
func TestDocumentExamplesAreNoRealKeys(t *testing.T) {
	var walk func(v any)
	found := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			if len(v) == apikey.ValueLen && v[2] == '_' {
				found++
				for _, s := range []apikey.Stage{apikey.Sandbox, apikey.Production} {
					if _, err := apikey.ParseValue(v, s); err == nil {
						t.Errorf("example %q is a well-formed %s key value", v, s)
					}
				}
			}
		}
	}
	var doc any
	if err := json.Unmarshal(apidoc.Document, &doc); err != nil {
		t.Fatal(err)
	}
	walk(doc)
	if found == 0 {
		t.Fatal("no example key value found: the check proves nothing")
	}
}
