// Package datasets owns Switchyard's labeled dataset format (DESIGN.md,
// "Labeled dataset format"): one prompt a line with each model's recorded
// outcome, read and written as JSON Lines, optionally gzip-compressed.
//
// It also owns the deterministic generator behind the shipped demo dataset
// (demo.jsonl.gz, see Demo), whose five models and prices are the ones the
// demo configuration routes between. Eval, the learner, the demo upstream
// and the importers all read and write datasets through this package, so
// that "what a valid line is" is decided in exactly one place.
//
// The package imports no web framework, database driver or LLM SDK.
package datasets
