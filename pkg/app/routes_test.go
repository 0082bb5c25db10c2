package app_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/apidoc"
	"github.com/flexfactor/credplane/pkg/app"
)

// TestAPIDescriptionListsEveryRoute: every route a function serves is an
// operation of the API description, and every operation of the
// description is served, unless it is marked x-planned (in the contract,
// not built yet), a mark that must go when its route lands.
func TestAPIDescriptionListsEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(apidoc.Document, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{} // route -> planned
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, method) {
				continue
			}
			var op struct {
				Planned bool `json:"x-planned"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			documented[strings.ToUpper(method)+" "+path] = op.Planned
		}
	}
	served := slices.Concat(slices.Collect(maps.Values(app.Routes))...)
	for _, route := range served {
		planned, ok := documented[route]
		switch {
		case !ok:
			t.Errorf("%s is served but not in the API description", route)
		case planned:
			t.Errorf("%s is served but marked x-planned in the API description", route)
		}
	}
	for route, planned := range documented {
		if !planned && !slices.Contains(served, route) {
			t.Errorf("%s is in the API description but no function serves it (mark it x-planned until it lands)", route)
		}
	}
}
