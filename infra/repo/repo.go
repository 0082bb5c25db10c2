// Package repo finds this repository's checkout: its root folder and the
// folder `make tools` installs the local tools into. The tooling under infra/
// runs from anywhere inside the checkout (go test runs in each package's
// folder), so every path it needs starts here.
package repo

import (
	"fmt"
	"os"
	"path/filepath"
)

// ToolsDirEnv names the environment variable that says where `make tools`
// installed the tools (the Makefile exports it).
const ToolsDirEnv = "FLEX_TOOLS_DIR"

// Root returns the nearest folder at or above the working directory that
// holds go.mod.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

// ToolsDir returns the absolute path of the tools folder: $FLEX_TOOLS_DIR
// when set, else .tools at the root, as in the Makefile.
func ToolsDir() (string, error) {
	dir := os.Getenv(ToolsDirEnv)
	if dir == "" {
		root, err := Root()
		if err != nil {
			return "", fmt.Errorf("%w: set %s", err, ToolsDirEnv)
		}
		dir = filepath.Join(root, ".tools")
	}
	return filepath.Abs(dir)
}
