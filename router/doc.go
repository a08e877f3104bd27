// Package router is Switchyard's domain: what a prompt analysis is, what a
// routing table and its versions are, how a request is routed to the
// cheapest adequate model and escalated when that model fails, and what is
// recorded about it.
//
// It imports no web framework, database driver or LLM SDK: the adapters in
// internal/ implement the small interfaces declared here (Classifier,
// Completer, Recorder) and cmd/switchyard wires them together.
package router
