#!/usr/bin/env bash
# Closed learning loop on a labeled dataset (issue 5, "Measure").
#
#   scripts/loop.sh DATASET
#
# Starts the demo upstream answering as DATASET's models and a switchyard
# service on loopback ports with a temporary SQLite database, its static
# routing table sending everything to the dataset's strongest model (the
# others listed behind it, cheapest first, for exploration to try).
# Replays the train split as traffic with feedback in batches, running
# `switchyard learn` after each, then evaluates the active table against
# the static one on the held-out split, offline. Prints the figures.
#
# Knobs (environment): BATCH prompts a batch (500), LIMIT train prompts at
# most (4000), TARGET the learner's quality target (0.9), TOLERANCE (0.01),
# MIN_SAMPLES (30), EXPLORE exploration share (0.3), TRAIN_FRAC and SEED of
# the split when the dataset fixes none (0.5, 1), PRICES the price file
# (/work/shared/datasets/prices.json; models it lacks are priced from
# config/demo.yaml, which covers the shipped demo dataset), CONCURRENCY of
# the replay (16), REPEAT passes over the train split (1; a small dataset
# needs several for exploration to gather evidence).
set -euo pipefail

dataset=${1:?usage: scripts/loop.sh DATASET}
dataset=$(cd "$(dirname "$dataset")" && pwd)/$(basename "$dataset")
BATCH=${BATCH:-500}
LIMIT=${LIMIT:-4000}
TARGET=${TARGET:-0.9}
TOLERANCE=${TOLERANCE:-0.01}
MIN_SAMPLES=${MIN_SAMPLES:-30}
EXPLORE=${EXPLORE:-0.3}
TRAIN_FRAC=${TRAIN_FRAC:-0.5}
SEED=${SEED:-1}
PRICES=${PRICES:-/work/shared/datasets/prices.json}
CONCURRENCY=${CONCURRENCY:-16}
REPEAT=${REPEAT:-1}

cd "$(dirname "$0")/.."
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

go build -o "$tmp/switchyard" ./cmd/switchyard
sy="$tmp/switchyard"

# Prices: the price file, then the demo configuration's models.
sed -n 's/^ *- {name: \([^,]*\), provider: [^,]*, input_per_mtok: \([0-9.]*\), output_per_mtok: \([0-9.]*\).*/{"\1": {"input_per_mtok": \2, "output_per_mtok": \3}}/p' config/demo.yaml |
	jq -s --slurpfile file "$PRICES" 'add + $file[0]' >"$tmp/prices.json"

# The dataset's models by mean score, strongest first, with their prices.
zcat -f "$dataset" | jq -c '.outcomes | to_entries[] | {m: .key, s: (.value.score // (if .value.correct then 1 else 0 end))}' |
	jq -s --slurpfile prices "$tmp/prices.json" '
		group_by(.m) | map({name: .[0].m, mean: (map(.s) | add / length)})
		| map(. + {price: $prices[0][.name]})
		| if any(.price == null) then error("no price for " + (map(select(.price == null).name) | join(", "))) else . end
		| sort_by(-.mean)' >"$tmp/models.json"
strong=$(jq -r '.[0].name' "$tmp/models.json")
# Strongest first, then the rest cheapest first.
chain=$(jq -c '[.[0].name] + (.[1:] | sort_by(.price.input_per_mtok + .price.output_per_mtok) | map(.name))' "$tmp/models.json")

up_port=$(freeport)
cat >"$tmp/static.yaml" <<YAML
server: {addr: "127.0.0.1:0", request_timeout: 120s, attempt_timeout: 60s, shutdown_timeout: 30s}
providers:
  - {name: upstream, base_url: "http://127.0.0.1:$up_port/v1", max_concurrency: 256}
models: $(jq -c 'map({name, provider: "upstream", input_per_mtok: .price.input_per_mtok, output_per_mtok: .price.output_per_mtok})' "$tmp/models.json")
classifier: {model: ""}
routing: {simple: $chain, moderate: $chain, complex: $chain}
exploration: $EXPLORE
baseline_model: "$strong"
learner: {enabled: false, window: 168h, min_samples: $MIN_SAMPLES, target: $TARGET, tolerance: $TOLERANCE}
YAML

export DATABASE_URL="sqlite:$tmp/loop.db"
"$sy" upstream --dataset "$dataset" --addr "127.0.0.1:$up_port" --latency-scale 0 >"$tmp/upstream.out" 2>"$tmp/upstream.log" &
pids+=($!)
"$sy" serve --config "$tmp/static.yaml" >"$tmp/serve.out" 2>"$tmp/serve.log" &
pids+=($!)
for _ in $(seq 600); do
	if grep -q "listening on" "$tmp/serve.out" 2>/dev/null && curl -fs "http://127.0.0.1:$up_port/v1/models" >/dev/null; then
		break
	fi
	sleep 0.1
done
target=$(sed -n 's/^switchyard listening on //p' "$tmp/serve.out")
[ -n "$target" ] || { echo "serve did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }

echo "dataset:      $(basename "$dataset")"
echo "models:       $(jq -r 'map("\(.name) (\(.mean * 1000 | round / 1000))") | join(", ")' "$tmp/models.json")"
echo "static table: every bucket $chain"
echo "learner:      target $TARGET, tolerance $TOLERANCE, min_samples $MIN_SAMPLES; exploration $EXPLORE"
echo
printf '%-8s %-10s %s\n' prompts learn reason

sent=0
first_promotion=""
for _ in $(seq "$REPEAT"); do
offset=0
while [ "$sent" -lt "$LIMIT" ]; do
	n=$((LIMIT - sent < BATCH ? LIMIT - sent : BATCH))
	"$sy" replay --dataset "$dataset" --target "$target" --feedback --split train --train-frac "$TRAIN_FRAC" --seed "$SEED" \
		--offset "$offset" --limit "$n" --rate 0 --concurrency "$CONCURRENCY" --json >"$tmp/replay.json"
	got=$(jq .sent "$tmp/replay.json")
	[ "$got" -gt 0 ] || break
	sent=$((sent + got))
	offset=$((offset + got))
	# The recorder writes asynchronously: wait for every row.
	for _ in $(seq 100); do
		rows=$(curl -fs "$target/costs/today" | jq '.total_prompts // 0')
		[ "$rows" -ge "$sent" ] && break
		sleep 0.1
	done
	"$sy" learn --config "$tmp/static.yaml" --json >"$tmp/learn.json"
	status=$(jq -r .status "$tmp/learn.json")
	printf '%-8s %-10s %s\n' "$sent" "$status" "$(jq -r .reason "$tmp/learn.json" | cut -c1-160)"
	if [ "$status" = promoted ] && [ -z "$first_promotion" ]; then
		first_promotion=$sent
	fi
	[ "$got" -lt "$n" ] && break
done
done
echo
echo "first promotion after: ${first_promotion:-none} prompts"
"$sy" table list --config "$tmp/static.yaml"
echo
"$sy" table show active --config "$tmp/static.yaml" --json | jq '.table' >"$tmp/active.json"
sed "s|^routing: .*|routing: $(jq -c . "$tmp/active.json")|" "$tmp/static.yaml" >"$tmp/active.yaml"

# Held out: the split's test part, never replayed; both tables offline.
evaluate() {
	"$sy" eval --dataset "$dataset" --config "$1" --prices "$tmp/prices.json" --train-frac "$TRAIN_FRAC" --seed "$SEED" \
		--policy static --policy learned --policy "always:$strong" --target "$TARGET" --no-store --json
}
evaluate "$tmp/static.yaml" >"$tmp/eval-static.json"
evaluate "$tmp/active.yaml" >"$tmp/eval-active.json"
jq -r --slurpfile a "$tmp/eval-active.json" '
	. as $s | ($s.policies[] | select(.name == "static")) as $st | ($a[0].policies[] | select(.name == "static")) as $ac
	| ($s.policies[] | select(.name == "learned")) as $le
	| "held out: \($s.n_test) prompts (\($s.split) split)",
	  "  static table:   quality \($st.quality * 10000 | round / 10000)  $/1k \($st.cost_per_1k * 10000 | round / 10000)",
	  "  active table:   quality \($ac.quality * 10000 | round / 10000)  $/1k \($ac.cost_per_1k * 10000 | round / 10000)  (\(($ac.cost_usd / $st.cost_usd * 1000 | round) / 10)% of static cost, quality \((($ac.quality - $st.quality) * 10000 | round) / 10000 | if . >= 0 then "+\(.)" else "\(.)" end))",
	  "  offline fit on all train (eval learned, same target): quality \($le.quality * 10000 | round / 10000)  $/1k \($le.cost_per_1k * 10000 | round / 10000)"' "$tmp/eval-static.json"
"$sy" table diff 1 active --config "$tmp/static.yaml" | head -40
