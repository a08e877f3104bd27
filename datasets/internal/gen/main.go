// Command gen writes the demo dataset, Generate(DemoConfig()), gzip-compressed.
// `go generate ./datasets` runs it to refresh datasets/demo.jsonl.gz.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/switchyard/switchyard/datasets"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	out := fs.String("o", "demo.jsonl.gz", "output file")
	seed := fs.Uint64("seed", datasets.DemoSeed, "random seed")
	n := fs.Int("n", datasets.DemoSize, "number of items")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := datasets.DemoConfig()
	cfg.Seed, cfg.N = *seed, *n
	var buf bytes.Buffer
	if err := datasets.WriteGzip(&buf, datasets.Generate(cfg)); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	return nil
}
