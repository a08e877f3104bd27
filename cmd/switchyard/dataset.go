package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/datasets/importers"
)

const datasetUsage = `usage: switchyard dataset import --format FORMAT IN OUT

Converts a public routing dataset to Switchyard's JSON Lines format
(gzip-compressed when OUT ends in .gz). IN is a file or a directory.
Formats: routellm, routerbench, llmrouter; the README says where to download each.`

// datasetCmd runs `switchyard dataset SUBCOMMAND`.
func datasetCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, datasetUsage)
		return usageError{"dataset: want a subcommand: import"}
	}
	switch args[0] {
	case "import":
		return datasetImport(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, datasetUsage)
		return nil
	default:
		fmt.Fprintln(stderr, datasetUsage)
		return usageError{fmt.Sprintf("dataset: unknown subcommand %q: want import", args[0])}
	}
}

func datasetImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dataset import", stderr)
	formats := strings.Join(importers.Formats(), ", ")
	format := fs.String("format", "", "source format: "+formats)
	// Flags may come after IN and OUT too, as in most CLIs.
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case *format == "":
		return usageError{"dataset import: --format is required: one of " + formats}
	case !slices.Contains(importers.Formats(), *format):
		return usageError{fmt.Sprintf("dataset import: unknown format %q: want one of %s", *format, formats)}
	case len(pos) != 2:
		return usageError{"dataset import: want IN and OUT"}
	}
	in, out := pos[0], pos[1]
	if sameFile(in, out) {
		return usageError{"dataset import: OUT must not be IN"}
	}

	res, err := importers.Import(ctx, *format, in)
	if err != nil {
		return fmt.Errorf("importing %s: %w", in, err)
	}
	if len(res.Items) == 0 {
		return fmt.Errorf("importing %s: no %s data found", in, *format)
	}
	if err := importers.Save(out, res.Items); err != nil {
		return err
	}
	models := res.Models()
	fmt.Fprintf(stdout, "%s: read %d rows from %d files, wrote %d items, %d models (%s)\n",
		out, res.Rows, res.Files, len(res.Items), len(models), strings.Join(models, ", "))
	if res.Duplicates > 0 {
		fmt.Fprintf(stdout, "  ignored %d repeated (prompt, model) records; the first of each was kept\n", res.Duplicates)
	}
	if n := len(res.Skipped); n > 0 {
		fmt.Fprintf(stdout, "  skipped %d files not in the %s format: %s\n", n, *format, summarize(res.Skipped, 5))
	}
	return nil
}

// sameFile reports whether out names the existing file in, which the
// import would otherwise replace.
func sameFile(in, out string) bool {
	a, err := os.Stat(in)
	if err != nil {
		return false
	}
	b, err := os.Stat(out)
	return err == nil && os.SameFile(a, b)
}

// summarize lists at most n names.
func summarize(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
