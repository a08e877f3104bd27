package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxLineBytes is the longest line Scan accepts. Public benchmarks carry
// few-shot prompts of tens of kilobytes; 16 MiB leaves room without letting
// a corrupt file without newlines exhaust memory.
const MaxLineBytes = 16 << 20

// LineError reports a malformed line of a dataset file.
type LineError struct {
	Line int // 1-based line number in the (decompressed) file
	Err  error
}

// Error names the line, as "line 17: ...".
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the underlying cause.
func (e *LineError) Unwrap() error { return e.Err }

// gzipMagic opens every gzip stream (RFC 1952); files are recognised by it
// rather than by name, so a renamed or piped file still reads.
var gzipMagic = []byte{0x1f, 0x8b}

// Scan reads JSON Lines from r, plain or gzip-compressed, and calls fn with
// each item in file order. Blank lines are skipped. A malformed line (bad
// JSON, missing id or prompt, a score outside [0, 1], no outcomes, an id seen
// before) stops the scan with a *LineError; an error from fn stops it and is
// returned as is.
func Scan(r io.Reader, fn func(Item) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("opening gzip stream: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	firstLine := map[string]int{} // id -> line, to reject duplicate ids
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var raw rawItem
		if err := json.Unmarshal(b, &raw); err != nil {
			return &LineError{Line: line, Err: fmt.Errorf("decoding JSON: %w", err)}
		}
		it := raw.item()
		if err := it.validate(); err != nil {
			return &LineError{Line: line, Err: err}
		}
		if first, dup := firstLine[it.ID]; dup {
			return &LineError{Line: line, Err: fmt.Errorf("duplicate id %q (first on line %d)", it.ID, first)}
		}
		firstLine[it.ID] = line
		if err := fn(it); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &LineError{Line: line + 1, Err: fmt.Errorf("longer than %d bytes", MaxLineBytes)}
		}
		return fmt.Errorf("reading line %d: %w", line+1, err)
	}
	return nil
}

// Read returns every item of a dataset read from r (see Scan).
func Read(r io.Reader) ([]Item, error) {
	var items []Item
	err := Scan(r, func(it Item) error {
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// Load reads the dataset file at path, plain or gzip-compressed.
func Load(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening dataset: %w", err)
	}
	defer f.Close()
	items, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("reading dataset %s: %w", path, err)
	}
	return items, nil
}
