package switchyard_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLeanBuild: the shipped builds (make build, the Dockerfile) pass
// -tags nomsgpack, and with it the binary links no MessagePack codec
// (gin's binding pulls github.com/ugorji/go in otherwise).
func TestLeanBuild(t *testing.T) {
	for _, f := range []string{"Makefile", "Dockerfile", "scripts/bench-overhead.sh"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "nomsgpack") {
			t.Errorf("%s builds switchyard without -tags nomsgpack", f)
		}
	}
	out, err := exec.Command("go", "list", "-deps", "-tags", "nomsgpack", "./cmd/switchyard").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/ugorji/") {
			t.Errorf("cmd/switchyard with -tags nomsgpack still imports %s", pkg)
		}
	}
}
