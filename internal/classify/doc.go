// Package classify owns layer 1 of Switchyard: deciding how demanding a
// prompt is before it is routed.
//
// Four tiers answer, cheapest first, behind one router.Classifier (the
// Cascade): a bounded in-memory LRU and an optional persistent store of
// earlier LLM answers; a local model trained on this deployment's outcomes
// (LocalModel), used when it is confident; an LLM that is forced to answer
// through a function call (LLM); and a deterministic keyword heuristic
// (Heuristic) that answers when no LLM is configured or the LLM fails and
// the local model has no answer. Keeper keeps the text of classified
// prompts, off the reply's path, for the local model's training. Every tier treats the prompt as
// data to be classified, never as instructions (FAULTS.md B8), and nothing
// in a prompt is fetched (B5).
package classify
