#!/usr/bin/env bash
# Redraws the README's picture of the admin overview from a real demo run.
#
#   scripts/screenshot.sh [OUT.png]      (default docs/img/overview.png)
#
# What `make run` runs (the demo upstream answering as the shipped demo
# dataset's models, switchyard serve with config/demo.yaml), on free
# loopback ports with a fresh SQLite database; then a replay of the demo
# dataset with feedback, a learner run, a second replay routed by what the
# learner chose, a second learner run, and one offline eval run, so every
# chart has something to show. Then headless Chromium (/usr/bin/chromium)
# captures the top of /admin at 1280x1300 (scripts/screenshot). Knobs:
# N prompts a replay (300), WIDTH and HEIGHT of the capture.
set -euo pipefail

out=${1:-docs/img/overview.png}
N=${N:-300}
cd "$(dirname "$0")/.."
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

go build -tags nomsgpack -o "$tmp/switchyard" ./cmd/switchyard
go build -o "$tmp/screenshot" ./scripts/screenshot
sy="$tmp/switchyard"
up_port=$(freeport)
port=$(freeport)
export DATABASE_URL="sqlite:$tmp/demo.db"
export SWITCHYARD_UPSTREAM="http://127.0.0.1:$up_port/v1"
export SWITCHYARD_ADMIN_TOKEN=demo
"$sy" upstream --addr "127.0.0.1:$up_port" --latency-scale 0 >"$tmp/upstream.out" 2>"$tmp/upstream.log" &
pids+=($!)
"$sy" serve --config config/demo.yaml --addr "127.0.0.1:$port" >"$tmp/serve.out" 2>"$tmp/serve.log" &
pids+=($!)
target="http://127.0.0.1:$port"
for _ in $(seq 600); do
	curl -fs "$target/readyz" >/dev/null 2>&1 && curl -fs "$SWITCHYARD_UPSTREAM/models" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fs "$target/readyz" >/dev/null || { echo "serve did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }

# Wait until the recorder has written every row (it writes asynchronously).
settle() {
	for _ in $(seq 100); do
		[ "$(curl -fs "$target/costs/today" | jq '.total_prompts // 0')" -ge "$1" ] && return
		sleep 0.1
	done
}
"$sy" replay --dataset datasets/demo.jsonl.gz --target "$target" --feedback --limit "$N" --rate 0 --concurrency 8 --json >"$tmp/replay1.json"
settle "$N"
"$sy" learn --config config/demo.yaml --json >"$tmp/learn1.json" || true
"$sy" replay --dataset datasets/demo.jsonl.gz --target "$target" --feedback --offset "$N" --limit "$N" --rate 0 --concurrency 8 --json >"$tmp/replay2.json"
settle $((2 * N))
"$sy" learn --config config/demo.yaml --json >"$tmp/learn2.json" || true
"$sy" eval --dataset datasets/demo.jsonl.gz --config config/demo.yaml >"$tmp/eval.out" 2>"$tmp/eval.log"
echo "learner: $(jq -r .status "$tmp/learn1.json"), then $(jq -r .status "$tmp/learn2.json")"

"$tmp/screenshot" -url "$target/admin?token=demo" -out "$out" -width "${WIDTH:-1280}" -height "${HEIGHT:-1300}"
