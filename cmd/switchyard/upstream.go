package main

import (
	"context"
	"fmt"
	"io"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/upstream"
)

func upstreamCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("upstream", stderr)
	dataset := fs.String("dataset", "", "labeled dataset (.jsonl or .jsonl.gz); default: the shipped demo dataset")
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	latency := fs.Float64("latency-scale", 1, "multiply each model's recorded latency (0: answer at once)")
	seed := fs.Uint64("seed", 1, "seed for answers to prompts the dataset does not know")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *latency < 0 {
		return usageError{"upstream: --latency-scale must not be negative"}
	}
	var (
		items []datasets.Item
		err   error
	)
	if *dataset == "" {
		items, err = datasets.Demo()
	} else {
		items, err = datasets.Load(*dataset)
	}
	if err != nil {
		return fmt.Errorf("load dataset: %w", err)
	}
	log := newLogger(stderr)
	srv := upstream.New(items, upstream.Options{Seed: *seed, LatencyScale: *latency, Logger: log})
	fmt.Fprintf(stdout, "switchyard upstream: %d prompts, models %v, on http://%s/v1\n", len(items), datasets.Models(items), *addr)
	return upstream.ListenAndServe(ctx, *addr, srv, log)
}
