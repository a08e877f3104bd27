package datasets

import (
	"bytes"
	_ "embed"
	"fmt"
)

//go:generate go run ./internal/gen -o demo.jsonl.gz

// demoGzip is Generate(DemoConfig()) written by WriteGzip; the golden test
// keeps it so, and `go generate ./datasets` rewrites it.
//
//go:embed demo.jsonl.gz
var demoGzip []byte

// Demo returns the shipped demo dataset: DemoSize prompts over the five
// DemoModels, generated with DemoSeed. Every call returns fresh items.
func Demo() ([]Item, error) {
	items, err := Read(bytes.NewReader(demoGzip))
	if err != nil {
		return nil, fmt.Errorf("reading embedded demo dataset: %w", err)
	}
	return items, nil
}
