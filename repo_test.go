// Tests of the repository's own files that no package owns: the compose
// file cannot be run here (no Docker engine), so it is at least checked
// for the shape the README promises; and the package boundaries, which
// otherwise hold by discipline alone, are checked against `go list`.
package switchyard_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestDockerCompose(t *testing.T) {
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"postgres", "upstream", "switchyard"} {
		svc, ok := compose.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if len(svc.Healthcheck.Test) == 0 {
			t.Errorf("service %s has no healthcheck", name)
		}
		if svc.Image == "" && svc.Build == nil {
			t.Errorf("service %s has neither image nor build", name)
		}
	}
	sy := compose.Services["switchyard"]
	if !strings.HasPrefix(sy.Environment["DATABASE_URL"], "postgres://") {
		t.Errorf("switchyard DATABASE_URL = %q, want a postgres URL", sy.Environment["DATABASE_URL"])
	}
	if sy.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("switchyard does not wait for a healthy postgres")
	}
	// The config it names must exist in the image (Dockerfile copies config/).
	if cfg := strings.Join(sy.Command, " "); !strings.Contains(cfg, "/etc/switchyard/demo.yaml") {
		t.Errorf("switchyard command = %q, want the demo config", cfg)
	}
	if _, err := os.Stat("config/demo.yaml"); err != nil {
		t.Error(err)
	}
}

func TestMakefileAndREADME(t *testing.T) {
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"run:", "test:", "build:", "lint:"} {
		if !strings.Contains(string(mk), "\n"+target) {
			t.Errorf("Makefile lacks target %s", target)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"make run", "make test"} {
		if !strings.Contains(string(readme), s) {
			t.Errorf("README.md does not show %q", s)
		}
	}
}

// module is this repository's module path; the boundary rules name
// packages relative to it.
const module = "github.com/switchyard/switchyard"

// listedPackage is what `go list` says of one package that the boundary
// rules read.
type listedPackage struct {
	ImportPath string
	// Imports are the direct imports of the package and of its tests.
	Imports []string
	// Deps are everything the package (not its tests) is built from.
	Deps []string
}

// framework names the libraries the domain keeps out: the HTTP framework,
// the ORM, SQL and its drivers, migrations, and the upstream SDK. Each is
// an import-path prefix.
var framework = []string{
	"github.com/gin-gonic/",
	"gorm.io/",
	"database/sql",
	"github.com/glebarez/",
	"github.com/jackc/",
	"modernc.org/sqlite",
	"github.com/pressly/goose",
	"github.com/openai/openai-go",
}

// domainPackages are the framework-free packages (with everything below
// them).
var domainPackages = []string{"router", "learner", "eval", "datasets", "web", "keys", "internal/edge"}

// boundaryViolations returns one line per broken layering rule, sorted:
//   - router, learner, eval, datasets and web are built from no framework
//     (their own tests may use the real store, as web's browser test does);
//   - eval is built without the learner's cron scheduler;
//   - only internal/httpapi imports gin;
//   - only internal/store and its test helper internal/storetest import gorm;
//   - only cmd/ imports internal/httpapi.
func boundaryViolations(pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if underAny(rel, domainPackages) {
			for _, d := range p.Deps {
				if hasAnyPrefix(d, framework) {
					out = append(out, fmt.Sprintf("%s is built from %s; the domain imports no framework", rel, d))
				}
			}
		}
		if under(rel, "eval") {
			for _, d := range p.Deps {
				if strings.HasPrefix(d, "github.com/robfig/cron") {
					out = append(out, fmt.Sprintf("%s is built from %s; eval does not depend on the scheduler", rel, d))
				}
			}
		}
		for _, imp := range p.Imports {
			switch {
			case strings.HasPrefix(imp, "github.com/gin-gonic/") && !under(rel, "internal/httpapi"):
				out = append(out, fmt.Sprintf("%s imports %s; only internal/httpapi may", rel, imp))
			case strings.HasPrefix(imp, "gorm.io/") && !under(rel, "internal/store") && !under(rel, "internal/storetest"):
				out = append(out, fmt.Sprintf("%s imports %s; only internal/store may", rel, imp))
			case imp == module+"/internal/httpapi" && !under(rel, "cmd") && !under(rel, "internal/httpapi"):
				out = append(out, fmt.Sprintf("%s imports internal/httpapi; only cmd/ may", rel))
			}
		}
	}
	sort.Strings(out)
	return out
}

// under reports whether the module-relative package path rel is dir or
// below it.
func under(rel, dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }

func underAny(rel string, dirs []string) bool {
	for _, d := range dirs {
		if under(rel, d) {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// TestBoundaryRules shows each rule catching the import it forbids, on
// made-up packages, and letting the allowed ones through.
func TestBoundaryRules(t *testing.T) {
	const gin, gorm = "github.com/gin-gonic/gin", "gorm.io/gorm"
	pkg := func(rel string, imports, deps []string) listedPackage {
		return listedPackage{ImportPath: module + "/" + rel, Imports: imports, Deps: deps}
	}
	tests := []struct {
		name string
		pkg  listedPackage
		want int // violations
	}{
		{"router built from stdlib only", pkg("router", []string{"context"}, []string{"context"}), 0},
		{"router built from gin", pkg("router", nil, []string{gin}), 1},
		{"web built from gorm through the store", pkg("web", []string{module + "/internal/store"}, []string{module + "/internal/store", gorm, "database/sql"}), 2},
		{"datasets/importers built from a SQL driver", pkg("datasets/importers", nil, []string{"github.com/jackc/pgx/v5"}), 1},
		{"learner built from openai-go", pkg("learner", nil, []string{"github.com/openai/openai-go/v3"}), 1},
		{"eval built from robfig/cron", pkg("eval", nil, []string{"github.com/robfig/cron/v3"}), 1},
		{"learner may use robfig/cron", pkg("learner", nil, []string{"github.com/robfig/cron/v3"}), 0},
		{"a framework is fine outside the domain", pkg("internal/classify", []string{"github.com/openai/openai-go/v3"}, []string{"github.com/openai/openai-go/v3"}), 0},
		{"internal/httpapi imports gin", pkg("internal/httpapi", []string{gin}, []string{gin}), 0},
		{"internal/provider imports gin", pkg("internal/provider", []string{gin}, nil), 1},
		{"cmd imports gin itself", pkg("cmd/switchyard", []string{gin}, nil), 1},
		{"internal/store imports gorm", pkg("internal/store", []string{gorm, "gorm.io/driver/postgres"}, nil), 0},
		{"internal/storetest imports gorm", pkg("internal/storetest", []string{gorm}, nil), 0},
		{"internal/recorder imports gorm", pkg("internal/recorder", []string{gorm}, nil), 1},
		{"cmd imports internal/httpapi", pkg("cmd/switchyard", []string{module + "/internal/httpapi"}, nil), 0},
		{"internal/metrics imports internal/httpapi", pkg("internal/metrics", []string{module + "/internal/httpapi"}, nil), 1},
		{"a package called cmdline is not cmd/", pkg("cmdline", []string{module + "/internal/httpapi"}, nil), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := boundaryViolations([]listedPackage{tt.pkg}); len(got) != tt.want {
				t.Errorf("violations = %d %q, want %d", len(got), got, tt.want)
			}
		})
	}
}

// TestBoundaries holds the repository's packages to the rules.
func TestBoundaries(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports,XTestImports,Deps", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(raw)); ; {
		var p struct {
			listedPackage
			TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		p.Imports = slices.Concat(p.Imports, p.TestImports, p.XTestImports)
		pkgs = append(pkgs, p.listedPackage)
	}
	if len(pkgs) < len(domainPackages) {
		t.Fatalf("go list found %d packages, want at least %d", len(pkgs), len(domainPackages))
	}
	for _, v := range boundaryViolations(pkgs) {
		t.Error(v)
	}
}

// readmePackages returns the packages README.md's package table names:
// every back-quoted path in the first column of the table under
// "| package | owns |", without a trailing slash.
func readmePackages(readme string) []string {
	var out []string
	_, table, ok := strings.Cut(readme, "| package | owns |\n")
	if !ok {
		return nil
	}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		for _, part := range strings.Split(cells[1], "`")[1:] {
			if p := strings.TrimSuffix(strings.TrimSpace(part), "/"); p != "" && !strings.ContainsAny(p, " ,") {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestReadmePackages(t *testing.T) {
	got := readmePackages("intro\n| package | owns |\n|---|---|\n| `router/` | the domain |\n| `datasets/`, `datasets/importers` | data |\n| `internal/store`, `migrations/` | persistence |\n\nafter\n| `not/a/row` | x |\n")
	want := []string{"datasets", "datasets/importers", "internal/store", "migrations", "router"}
	if !slices.Equal(got, want) {
		t.Errorf("readmePackages = %q, want %q", got, want)
	}
}

// TestReadmePackageTable holds README's package table to the tree: every
// package `go list` finds has a row, and every row names a package.
func TestReadmePackageTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := readmePackages(string(readme))
	if len(listed) == 0 {
		t.Fatal(`README.md has no "| package | owns |" table`)
	}
	out, err := exec.Command("go", "list", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var tree []string
	for _, p := range strings.Fields(string(out)) {
		// The module's root holds only this file's tests.
		if rel := strings.TrimPrefix(strings.TrimPrefix(p, module), "/"); rel != "" {
			tree = append(tree, rel)
		}
	}
	for _, p := range tree {
		if !slices.Contains(listed, p) {
			t.Errorf("package %s is not in README.md's package table", p)
		}
	}
	for _, p := range listed {
		if !slices.Contains(tree, p) {
			t.Errorf("README.md's package table names %s, which go list does not find", p)
		}
	}
}
