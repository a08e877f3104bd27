// Package migrations holds Switchyard's database schema as numbered SQL
// files, one directory per dialect, in goose's format. They are embedded
// in the binary so `switchyard migrate` and `switchyard serve` need no
// files on disk; internal/store applies them.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migrations of dialect ("postgres" or "sqlite"), rooted so
// that file names are the goose versions (00001_init.sql, ...).
func FS(dialect string) (fs.FS, error) {
	switch dialect {
	case "postgres", "sqlite":
		return fs.Sub(files, dialect)
	}
	return nil, fmt.Errorf("migrations for dialect %q: want postgres or sqlite", dialect)
}
