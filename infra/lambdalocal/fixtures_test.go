package lambdalocal_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/infra/lambdalocal"
)

func TestPlaceholdersAreListedOnce(t *testing.T) {
	got := lambdalocal.Placeholders([]byte(`{"a":"{{MID}}","b":"{{APP_KEY}}:{{MID}}","c":"{not} {{lower}}"}`))
	if want := []string{"MID", "APP_KEY"}; !slices.Equal(got, want) {
		t.Fatalf("Placeholders = %v, want %v", got, want)
	}
}

func TestFillRefusesAnUnknownPlaceholder(t *testing.T) {
	fx := &lambdalocal.Fixtures{}
	_, _, err := fx.Fill(context.Background(), []byte(`{"a":"{{NO_SUCH_THING}}"}`))
	if err == nil || !strings.Contains(err.Error(), "{{NO_SUCH_THING}}") {
		t.Fatalf("err = %v, want one naming the placeholder", err)
	}
}

func TestFillSubstitutesAndKeepsJSONValid(t *testing.T) {
	fx := &lambdalocal.Fixtures{AccessToken: "a.b.c"}
	fx.Merchant.MID, fx.Merchant.AppKey = "mid_1", "pk_test_x"
	out, values, err := fx.Fill(context.Background(), []byte(`{"h":"Bearer {{ACCESS_TOKEN}}","p":"/v1/api-keys?mid={{MID}}","k":"{{APP_KEY}}"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"h":"Bearer a.b.c","p":"/v1/api-keys?mid=mid_1","k":"pk_test_x"}`; string(out) != want {
		t.Errorf("Fill = %s, want %s", out, want)
	}
	if values["MID"] != "mid_1" || len(values) != 3 {
		t.Errorf("values = %v", values)
	}
}
