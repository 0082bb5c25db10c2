package samtemplate_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/flexfactor/credplane/infra/repo"
)

// maxBootstrap is the design's size budget for each bootstrap.
const maxBootstrap = 12 << 20

// TestMakeBuildMakesLambdaBinaries runs each function's real build target,
// as `sam build` does, and checks that it makes a static linux/arm64
// executable named bootstrap within the size budget.
func TestMakeBuildMakesLambdaBinaries(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	tpl := load(t)
	out := t.TempDir()
	for _, fn := range tpl.Functions() {
		dir := filepath.Join(out, fn)
		cmd := exec.Command("make", "-C", root, "-s", "build-"+fn, "ARTIFACTS_DIR="+dir)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make build-%s: %v\n%s", fn, err, b)
		}
		path := filepath.Join(dir, "bootstrap")
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: dynamically linked; Lambda's provided.al2023 wants a static binary", fn)
			}
		}
		if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
			t.Errorf("%s: %v %v, want arm64 (Architectures: [arm64])", fn, f.Class, f.Machine)
		}
		_ = f.Close()
		if fi.Size() > maxBootstrap {
			t.Errorf("%s: bootstrap is %d bytes, over the %d budget", fn, fi.Size(), maxBootstrap)
		}
		t.Logf("%s: bootstrap %d bytes (%.1f MiB)", fn, fi.Size(), float64(fi.Size())/(1<<20))
	}
}
