package importers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/datasets"
)

// csvTable reads a CSV file with a header row, as pandas' to_csv writes it:
// quoted fields may span lines, and every row has the header's width.
type csvTable struct {
	path   string
	header []string
	index  map[string]int // column name -> position
	r      *csv.Reader
	row    int // data rows read so far
	line   int // line the current row starts on
	close  func() error
}

// utf8BOM is stripped from the first header cell: spreadsheet exports
// often start with one.
const utf8BOM = "\ufeff"

// openCSVTable opens a CSV file, plain or gzip, and reads its header, which
// must have the required columns. The caller closes the table.
func openCSVTable(path string, required ...string) (*csvTable, error) {
	in, err := openInput(path)
	if err != nil {
		return nil, err
	}
	t, err := newCSVTable(path, in)
	if err == nil {
		err = t.require(required...)
	}
	if err != nil {
		in.Close()
		return nil, err
	}
	t.close = in.Close
	return t, nil
}

// newCSVTable reads the header row.
func newCSVTable(path string, r io.Reader) (*csvTable, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, want a header row", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading header: %w", path, err)
	}
	header[0] = strings.TrimPrefix(header[0], utf8BOM)
	t := &csvTable{path: path, header: header, index: make(map[string]int, len(header)), r: cr}
	for i, name := range header {
		if _, dup := t.index[name]; dup {
			return nil, fmt.Errorf("%s: header: column %q appears twice", path, name)
		}
		t.index[name] = i
	}
	return t, nil
}

// next returns the next data row, or io.EOF after the last one.
func (t *csvTable) next() ([]string, error) {
	rec, err := t.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	t.row++
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		t.line = pe.StartLine
		return nil, t.errorf("%v", pe.Err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading row %d: %w", t.path, t.row, err)
	}
	t.line, _ = t.r.FieldPos(0)
	return rec, nil
}

// items converts every data row in order with fn, checking ctx now and
// then; a row that gives no outcome at all is an error.
func (t *csvTable) items(ctx context.Context, fn func(rec []string) (datasets.Item, error)) ([]datasets.Item, error) {
	var items []datasets.Item
	for {
		rec, err := t.next()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return nil, err
		}
		if err := ctxErr(ctx, t.row); err != nil {
			return nil, err
		}
		it, err := fn(rec)
		if err != nil {
			return nil, err
		}
		if len(it.Outcomes) == 0 {
			return nil, t.errorf("no model column has a score")
		}
		items = append(items, it)
	}
}

// score reads the score in column col of the current row (see parseScore).
func (t *csvTable) score(rec []string, col int) (float64, bool, error) {
	v, ok, err := parseScore(rec[col])
	if err != nil {
		return 0, false, t.errorf("column %q: %v", t.header[col], err)
	}
	return v, ok, nil
}

// errorf reports a problem with the current row.
func (t *csvTable) errorf(format string, args ...any) error {
	return &RowError{File: t.path, Unit: "row", Row: t.row, Line: t.line, Err: fmt.Errorf(format, args...)}
}

// require checks that the header has every named column.
func (t *csvTable) require(names ...string) error {
	for _, n := range names {
		if _, ok := t.index[n]; !ok {
			return fmt.Errorf("%s: header: missing column %q (have %s)", t.path, n, strings.Join(t.header, ", "))
		}
	}
	return nil
}

// parseScore reads a score cell: pandas' True/False, or a number in [0, 1].
// An empty or NaN cell (how pandas writes a missing value) is reported as
// absent rather than as an error.
func parseScore(cell string) (v float64, present bool, err error) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return 0, false, nil
	}
	if b, err := strconv.ParseBool(s); err == nil {
		if b {
			return 1, true, nil
		}
		return 0, true, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, fmt.Errorf("not a number %q", cell)
	}
	if math.IsNaN(v) {
		return 0, false, nil
	}
	if err := checkScore(v); err != nil {
		return 0, false, err
	}
	return v, true, nil
}

// parseCost reads a cost cell in US dollars; empty or NaN is absent.
func parseCost(cell string) (*float64, error) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("not a number %q", cell)
	}
	if math.IsNaN(v) {
		return nil, nil
	}
	if v < 0 || math.IsInf(v, 0) {
		return nil, fmt.Errorf("cost %v: want a non-negative amount", v)
	}
	return &v, nil
}
