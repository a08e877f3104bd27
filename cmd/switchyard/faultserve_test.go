package main

import (
	"os"
	"path/filepath"
	"testing"
)

// startServeYAML runs `switchyard serve` with the configuration cfg (its
// providers typically pointed at a faketest upstream) on a fresh SQLite
// database. The returned instance's done receives run's result.
func startServeYAML(t testing.TB, cfg string, env map[string]string) *instance {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "switchyard.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "sy.db")}
	for k, v := range env {
		all[k] = v
	}
	inst := &instance{dbURL: all["DATABASE_URL"]}
	launch(t, inst, cfgPath, all)
	return inst
}

// faultConfig is a configuration whose one provider is the faketest
// upstream at url, without a key, with models named after faults, the
// heuristic classifier and no learner; server is the server section's
// body (see spec).
func faultConfig(url, server string, models []string, routing string) string {
	return spec{server: server, models: models, routing: routing}.yaml(url)
}
