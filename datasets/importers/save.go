package importers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchyard/switchyard/datasets"
)

// Save writes items to path as JSON Lines, gzip-compressed when the name
// ends in ".gz". It writes a temporary file in the same directory and
// renames it over path only once everything is written, so path is either
// left as it was or replaced whole: a reader never sees half a dataset.
func Save(path string, items []datasets.Item) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating output: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if strings.HasSuffix(path, ".gz") {
		err = datasets.WriteGzip(tmp, items)
	} else {
		err = datasets.Write(tmp, items)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp makes the file private; a dataset is ordinary data.
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
