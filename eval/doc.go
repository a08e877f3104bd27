// Package eval replays labeled datasets through routing policies without
// calling any model, and scores them the way the routing literature does:
// quality, cost, savings against the strongest model, the cost-quality
// curve of the learned table as its quality target moves, RouteLLM's APGR
// and CPT, and RouterBench's AIQ (DESIGN.md, "switchyard eval").
//
// A dataset is first prepared into a Matrix (prompts x models of quality
// and cost, each prompt's bucket and split), so that replaying a policy is
// a loop over flat slices; see Prepare and Matrix.Evaluate. The package
// imports no web framework, database driver or LLM SDK: the classifier is
// passed in.
package eval
