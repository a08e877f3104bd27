package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/config"
)

// Commands that call no provider run without provider keys, with the
// embedded configuration and with a file naming key variables (issue 12,
// item 8); serve still refuses (TestServeRefusesBadConfig).
func TestCommandsWithoutProviderKeys(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "keys.yaml")
	demo, err := os.ReadFile("../../config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The demo with one provider that names a key variable left unset.
	withKey := strings.Replace(string(demo), `api_key_env: ""`, `api_key_env: SWITCHYARD_TEST_UNSET_KEY`, 1)
	if withKey == string(demo) {
		t.Fatal("demo config edit not applied")
	}
	if err := os.WriteFile(cfgPath, []byte(withKey), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"migrate", "up"},
		{"migrate", "--config", cfgPath, "status"},
		{"table", "list"},
		{"table", "list", "--config", cfgPath},
		{"learn", "--dry-run"},
		{"learn", "--dry-run", "--config", cfgPath},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dbURL := "sqlite:" + t.TempDir() + "/k.db"
			env := map[string]string{"DATABASE_URL": dbURL}
			if args[0] == "learn" {
				// The learner needs an active table, as after `make run`.
				st := openTestStore(t, dbURL)
				cfg, err := config.LoadWithoutKeys("", func(string) string { return "" })
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
				if _, err := st.SeedVersion(context.Background(), cfg.Table()); err != nil {
					t.Fatal(err)
				}
			}
			err := run(context.Background(), args, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err != nil {
				t.Fatalf("run(%v) without keys = %v, want success", args, err)
			}
		})
	}
}
