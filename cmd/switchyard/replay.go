package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/replay"
)

func replayCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	var (
		o   replay.Options
		sel replay.Selection
	)
	dataset := fs.String("dataset", "", "labeled dataset (.jsonl or .jsonl.gz) whose prompts to send")
	target := fs.String("target", "", "base URL of a running switchyard (e.g. http://127.0.0.1:8080)")
	fs.BoolVar(&o.Feedback, "feedback", false, "post each answer's recorded outcome (the answering model's dataset score) to /feedback")
	fs.Float64Var(&o.Rate, "rate", 20, "prompts per second at most (0: no limit beyond --concurrency)")
	fs.IntVar(&sel.Limit, "limit", 0, "send at most this many prompts (0: all of the split)")
	fs.IntVar(&sel.Offset, "offset", 0, "skip this many prompts of the split first (replay a split in batches)")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "prompts in flight at once")
	fs.StringVar(&sel.Split, "split", "all", "which prompts: train, test or all")
	fs.Float64Var(&sel.TrainFrac, "train-frac", 0.5, "share of prompts in train when the dataset fixes no split")
	fs.Uint64Var(&sel.Seed, "seed", 1, "seed of the train/test split when the dataset fixes none")
	fs.StringVar(&o.API, "api", replay.APIAsk, "endpoint to drive: ask (/ask) or chat (/v1/chat/completions)")
	allowRemote := fs.Bool("allow-remote", false, "allow a target that is not on this machine (it is a load tool)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("replay: unexpected argument %q", fs.Arg(0))}
	}
	switch {
	case *dataset == "":
		return usageError{"replay: --dataset is required"}
	case *target == "":
		return usageError{"replay: --target is required"}
	case o.Rate < 0:
		return usageError{"replay: --rate must not be negative"}
	case sel.Limit < 0:
		return usageError{"replay: --limit must not be negative"}
	case sel.Offset < 0:
		return usageError{"replay: --offset must not be negative"}
	case o.Concurrency < 1 || o.Concurrency > 1024:
		return usageError{"replay: --concurrency must be between 1 and 1024"}
	case sel.Split != datasets.SplitTrain && sel.Split != datasets.SplitTest && sel.Split != "all":
		return usageError{fmt.Sprintf("replay: --split %q: want train, test or all", sel.Split)}
	case sel.TrainFrac < 0 || sel.TrainFrac > 1:
		return usageError{"replay: --train-frac must be between 0 and 1"}
	case o.API != replay.APIAsk && o.API != replay.APIChat:
		return usageError{fmt.Sprintf("replay: --api %q: want ask or chat", o.API)}
	}
	u, err := replay.CheckTarget(*target, *allowRemote)
	if err != nil {
		return usageError{"replay: " + err.Error()}
	}
	o.Target = u

	items, err := datasets.Load(*dataset)
	if err != nil {
		return fmt.Errorf("load dataset: %w", err)
	}
	sum, err := replay.Run(ctx, replay.Select(items, sel), o, &http.Client{Timeout: replay.RequestTimeout})
	if perr := sum.Print(stdout, *asJSON); perr != nil {
		return perr
	}
	if err != nil {
		return err
	}
	if sum.Sent > 0 && sum.OK == 0 {
		return fmt.Errorf("replay: all %d prompts failed (first error: %s)", sum.Sent, sum.FirstError)
	}
	return nil
}
