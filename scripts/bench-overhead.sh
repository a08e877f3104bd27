#!/usr/bin/env bash
# Switchyard's overhead under load against a bare reverse proxy (issue 11).
#
#   scripts/bench-overhead.sh [loadgen bench flags]
#
# Builds bin/switchyard and bin/loadgen, then `loadgen bench` starts, on
# loopback ports only: a stub OpenAI-compatible upstream answering at once
# (`loadgen stub`), a bare httputil.ReverseProxy in front of it
# (`loadgen proxy`), and for each Switchyard row a fresh `switchyard serve`
# with a temporary SQLite database, the heuristic classifier (no
# classification call) and one provider (max_concurrency 64, so
# max_in_flight defaults to 128). Each target is driven open-loop at fixed
# rates, then closed-loop at saturation, and Switchyard also at 3x its
# saturation throughput; latencies run from each request's scheduled time.
#
# Targets: direct (the stub), proxy, named (model stub-small), auto-repeated
# (model auto, one prompt), auto-distinct (model auto, every prompt new).
# Printed per run: success share, refusals (503) and their p99, answered/s,
# p50/p99 and added p50/p99 over direct at the same rate, CPU µs per
# answered request of the target's process (/proc/PID/stat), its peak RSS
# (VmHWM), and for Switchyard the rows written (counted after SIGTERM
# flushed them) against the requests answered 200. Then the issue's ratios,
# each from this run alone.
#
# Flags (defaults): --rates 500,1000  --duration 5s  --conns 512
# --sat-conns 64  --overload 3  --max-requests 200000  --only TARGETS
# --pprof 127.0.0.1:6060 (profile a run: go tool pprof
# http://127.0.0.1:6060/debug/pprof/profile)  --timeout 15m.
# Every run is bounded by --duration and --max-requests, the whole by
# --timeout. The load generator shares the machine with what it measures:
# compare ratios from one run, not absolute figures across machines.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -tags nomsgpack -o bin/switchyard ./cmd/switchyard
go build -o bin/loadgen ./cmd/loadgen
exec bin/loadgen bench --switchyard bin/switchyard "$@"
