// Package textmodel owns Switchyard's local prompt model: a set of
// logistic regressions over hashed text features that predict, from a
// prompt alone and in microseconds, how likely each candidate model is to
// answer it well. From those predictions the bucket rule (Bucket) derives
// a prompt's complexity, so that "simple" and "complex" are defined by
// the outcome data rather than by hand-written cues.
//
// The package has four parts, all pure Go with no network:
//
//   - Extractor turns a prompt (and, optionally, an LLM analysis of it)
//     into a sparse feature Vector; the same code serves training and
//     prediction, so the two cannot drift apart.
//   - Train fits one L2-regularised logistic regression per head (a
//     candidate model, or a prompt category) with AdaGrad, then calibrates
//     each head's probabilities by Platt scaling on a held-out slice.
//     Optional topic heads (Example.Topic, a label known at training time
//     only) learn the topic from the prompt's words; each model head then
//     stacks the model's per-topic success rate, averaged over the
//     predicted topic mixture, onto its own score. Isotonic maps
//     (Options.Isotonic) may follow the sigmoid. Optionally
//     (Options.SharedDifficulty) a prompt difficulty learned from every
//     model's outcomes pooled underlies the model heads, each fitted as
//     its residual, and is folded into them after training.
//   - Model predicts calibrated probabilities and is serialised by
//     MarshalBinary in a versioned, deterministic format whose digest can
//     go into a routing table version's provenance.
//   - Bucket maps the probabilities of models ordered cheapest to
//     strongest to simple, moderate or complex with a confidence.
//   - Reliability, ECE, AUC and PSI audit a model: calibration, ranking,
//     and the drift of a bucket mix between two periods.
package textmodel
