package repo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootIsTheFolderWithGoMod(t *testing.T) {
	got, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Root = %s, want %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(got, "go.mod")); err != nil {
		t.Error(err)
	}
}

func TestRootFailsOutsideAModule(t *testing.T) {
	t.Chdir(t.TempDir())
	if _, err := Root(); err == nil {
		t.Fatal("Root found a go.mod above a fresh temporary folder")
	}
}

func TestToolsDir(t *testing.T) {
	t.Setenv(ToolsDirEnv, "")
	got, err := ToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, ".tools"); got != want {
		t.Errorf("default tools dir = %s, want %s", got, want)
	}
	t.Setenv(ToolsDirEnv, "/opt/x")
	if got, _ := ToolsDir(); got != "/opt/x" {
		t.Errorf("with %s set: %s", ToolsDirEnv, got)
	}
}
