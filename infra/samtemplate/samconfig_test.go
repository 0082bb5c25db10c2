package samtemplate_test

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/infra/repo"
)

// readSamconfig reads the subset of TOML samconfig.toml uses: [a.b.c]
// tables of key = "string" | true | false | number, and # comments. It
// returns the values by "table.key".
func readSamconfig(t *testing.T) map[string]string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	table := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			table = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("samconfig.toml:%d: cannot read %q", n, line)
			}
			v = strings.TrimSpace(v)
			if s, err := strconv.Unquote(v); err == nil {
				v = s
			} else if v != "true" && v != "false" {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					t.Fatalf("samconfig.toml:%d: unsupported value %s", n, v)
				}
			}
			key := strings.TrimSpace(k)
			if table != "" {
				key = table + "." + key
			}
			out[key] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSamconfigEnvironments(t *testing.T) {
	cfg := readSamconfig(t)
	if cfg["version"] != "0.1" {
		t.Errorf("version = %q", cfg["version"])
	}
	for _, env := range []struct{ name, stage, confirm string }{
		{"default", "sandbox", "false"},
		{"sandbox", "sandbox", "false"},
		{"production", "production", "true"},
	} {
		get := func(key string) string { return cfg[env.name+"."+key] }
		if got, want := get("global.parameters.stack_name"), "credplane-"+env.stage; got != want {
			t.Errorf("[%s] stack_name = %q, want %q", env.name, got, want)
		}
		overrides := strings.Fields(get("deploy.parameters.parameter_overrides"))
		if len(overrides) == 0 || overrides[0] != "Stage="+env.stage {
			t.Errorf("[%s] parameter_overrides = %v, want Stage=%s first", env.name, overrides, env.stage)
		}
		caps := strings.Fields(get("deploy.parameters.capabilities"))
		for _, c := range []string{"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"} { // roles; the LanguageExtensions transform
			if !slices.Contains(caps, c) {
				t.Errorf("[%s] capabilities %v lack %s", env.name, caps, c)
			}
		}
		if got := get("deploy.parameters.confirm_changeset"); got != env.confirm {
			t.Errorf("[%s] confirm_changeset = %q, want %s", env.name, got, env.confirm)
		}
		if get("deploy.parameters.region") == "" || get("deploy.parameters.resolve_s3") != "true" {
			t.Errorf("[%s] needs region and resolve_s3 = true", env.name)
		}
	}
	// The default environment is the sandbox one, setting for setting.
	for key, v := range cfg {
		if rest, ok := strings.CutPrefix(key, "sandbox."); ok && cfg["default."+rest] != v {
			t.Errorf("default.%s = %q, sandbox.%s = %q", rest, cfg["default."+rest], rest, v)
		}
	}
}
