package migrations

import (
	"io/fs"
	"strings"
	"testing"
)

func TestFS(t *testing.T) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			fsys, err := FS(dialect)
			if err != nil {
				t.Fatalf("FS(%q): %v", dialect, err)
			}
			names, err := fs.Glob(fsys, "*.sql")
			if err != nil {
				t.Fatal(err)
			}
			if len(names) == 0 || names[0] != "00001_init.sql" {
				t.Fatalf("migrations = %v, want 00001_init.sql first", names)
			}
			for _, name := range names {
				b, err := fs.ReadFile(fsys, name)
				if err != nil {
					t.Fatal(err)
				}
				for _, marker := range []string{"-- +goose Up", "-- +goose Down"} {
					if !strings.Contains(string(b), marker) {
						t.Errorf("%s/%s: no %q", dialect, name, marker)
					}
				}
			}
		})
	}
}

func TestFSSameFiles(t *testing.T) {
	// Both dialects must have the same versions, or a schema would
	// differ by database.
	list := func(d string) string {
		fsys, err := FS(d)
		if err != nil {
			t.Fatal(err)
		}
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(names, ",")
	}
	if got, want := list("sqlite"), list("postgres"); got != want {
		t.Errorf("sqlite migrations %s, postgres %s: want the same", got, want)
	}
}

func TestFSUnknownDialect(t *testing.T) {
	if _, err := FS("mysql"); err == nil {
		t.Error("FS(mysql): got nil error, want one")
	}
}
