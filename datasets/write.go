package datasets

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
)

// Write writes items as JSON Lines, one item a line, with a stable field
// order (id, prompt, source, split, outcomes by model name, label,
// reference), so that the same items always give the same bytes. It checks
// each item as Scan would and refuses to write one Scan would reject.
func Write(w io.Writer, items []Item) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	// Prompts are full of <, > and &; escaping them would only make the
	// files harder to read.
	enc.SetEscapeHTML(false)
	for i := range items {
		if err := items[i].validate(); err != nil {
			return fmt.Errorf("writing item %d: %w", i, err)
		}
		if err := enc.Encode(&items[i]); err != nil {
			return fmt.Errorf("writing item %q: %w", items[i].ID, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing dataset: %w", err)
	}
	return nil
}

// WriteGzip writes items as Write does, gzip-compressed. The output is
// deterministic: the gzip header carries no name and no modification time,
// so regenerating a committed file changes nothing unless the items do.
func WriteGzip(w io.Writer, items []Item) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return fmt.Errorf("compressing dataset: %w", err)
	}
	if err := Write(zw, items); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing dataset: %w", err)
	}
	return nil
}
