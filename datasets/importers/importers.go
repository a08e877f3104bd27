// Package importers converts the per-prompt outcome files that public LLM
// routing projects publish into Switchyard's labeled dataset format
// (package datasets): RouteLLM's per-benchmark response CSVs and MT-Bench
// judgements, RouterBench's wide per-model table, and LLMRouter's routing
// data (the RouterDC JSON and the per-model JSON Lines it is built from).
//
// Each importer reads everything into memory first and reports the first
// malformed row with its file and row number; Save then writes the output
// through a temporary file, so a failed import never leaves a partial file.
// Identifiers and sources are derived from file names and row positions
// only, so the same input always gives the same output bytes.
package importers

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/datasets"
)

// The format names Import accepts.
const (
	RouteLLM    = "routellm"
	RouterBench = "routerbench"
	LLMRouter   = "llmrouter"
)

// ErrUnknownFormat is returned (wrapped) by Import for a format name it does
// not know.
var ErrUnknownFormat = errors.New("unknown format")

// Formats lists the format names Import accepts, sorted.
func Formats() []string {
	return []string{LLMRouter, RouteLLM, RouterBench}
}

// Result is what an import produced.
type Result struct {
	// Items are the converted prompts in input order (files in lexical
	// path order, rows in file order).
	Items []datasets.Item
	// Files is the number of input files read.
	Files int
	// Rows is the number of source rows, lines or records read.
	Rows int
	// Skipped names the files of an input directory that were not of the
	// format and so were passed over.
	Skipped []string
	// Duplicates counts source records dropped because an earlier record
	// already gave the same model's result on the same prompt.
	Duplicates int
}

// Models lists the model names found in the items, sorted.
func (r *Result) Models() []string { return datasets.Models(r.Items) }

// Import reads the dataset at path, a file or a directory, in the named
// format (see Formats). Gzip-compressed input files are accepted; they are
// recognised by content, and a ".gz" suffix is ignored when a file name is
// interpreted. Errors name the file and row; ErrUnknownFormat is wrapped for
// an unknown format.
func Import(ctx context.Context, format, path string) (*Result, error) {
	var res *Result
	var err error
	switch format {
	case RouteLLM:
		res, err = importRouteLLM(ctx, path)
	case RouterBench:
		res, err = importRouterBench(ctx, path)
	case LLMRouter:
		res, err = importLLMRouter(ctx, path)
	default:
		return nil, fmt.Errorf("%w %q: want one of %s", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
	}
	if err != nil {
		return nil, err
	}
	if err := checkUniqueIDs(res.Items); err != nil {
		return nil, err
	}
	return res, nil
}

// RowError reports a malformed row of an input file.
type RowError struct {
	File string // the file's path
	Unit string // what Row counts: "row" (CSV data rows), "line" or "item"
	Row  int    // 1-based
	// Line is the 1-based line a CSV row starts on, or 0 when Row already
	// is a line number; CSV fields may span lines.
	Line int
	Err  error
}

// Error reads as "mmlu_anatomy.csv: row 17 (line 40): column ...".
func (e *RowError) Error() string {
	if e.Line > 0 && e.Line != e.Row {
		return fmt.Sprintf("%s: %s %d (line %d): %v", e.File, e.Unit, e.Row, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %s %d: %v", e.File, e.Unit, e.Row, e.Err)
}

// Unwrap returns the underlying cause.
func (e *RowError) Unwrap() error { return e.Err }

// gzipMagic opens every gzip stream (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// openInput opens a file for reading, decompressing it when it is gzip.
func openInput(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening input: %w", err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	if magic, _ := br.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("opening gzip stream %s: %w", path, err)
		}
		return readCloser{zr, func() error { zr.Close(); return f.Close() }}, nil
	}
	return readCloser{br, f.Close}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// baseName is a file's name without directory and without a ".gz" suffix,
// which is how importers read meaning from it.
func baseName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".gz")
}

// stem is baseName without its last extension: "train.json" gives "train".
func stem(path string) string {
	b := baseName(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// inputFiles lists the regular files under path in lexical order, or path
// itself when it is a file, and reports whether path was a directory.
func inputFiles(path string) (files []string, dir bool, err error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("reading input: %w", err)
	}
	if !info.IsDir() {
		return []string{path}, false, nil
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, true, fmt.Errorf("listing input directory: %w", err)
	}
	sort.Strings(files)
	return files, true, nil
}

// checkUniqueIDs rejects two items with the same id, which datasets.Scan
// would refuse to read back.
func checkUniqueIDs(items []datasets.Item) error {
	seen := make(map[string]bool, len(items))
	for i := range items {
		if seen[items[i].ID] {
			return fmt.Errorf("two input rows give the same id %q; import the files separately", items[i].ID)
		}
		seen[items[i].ID] = true
	}
	return nil
}

// splitFromName reads a train/test split from a file name such as
// "train.json", "nq_test.json" or "default_routing_train_data.jsonl".
func splitFromName(path string) string {
	words := strings.FieldsFunc(strings.ToLower(stem(path)), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
	for _, w := range words {
		if w == "train" || w == "test" {
			return w
		}
	}
	return ""
}

// checkScore enforces the dataset format's score range.
func checkScore(v float64) error {
	if !(v >= 0 && v <= 1) {
		return fmt.Errorf("score %v outside [0, 1]", v)
	}
	return nil
}

// ctxErr checks for cancellation on a file's first row and every 1024th
// after it, often enough to stop a long import promptly and rarely enough
// to cost nothing.
func ctxErr(ctx context.Context, row int) error {
	if row%1024 == 1 {
		return ctx.Err()
	}
	return nil
}
