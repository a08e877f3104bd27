// Tests of the repository's own files that no package owns: the compose
// file cannot be run here (no Docker engine), so it is at least checked
// for the shape the README promises.
package switchyard_test

import (
	"os"
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
