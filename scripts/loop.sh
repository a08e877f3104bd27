#!/usr/bin/env bash
# Closed learning loop on a labeled dataset (issues 5 and 9).
#
#   scripts/loop.sh DATASET
#
# Starts the demo upstream answering as DATASET's models and a switchyard
# service on loopback ports with a temporary SQLite database, its static
# routing table sending everything to the dataset's strongest model (the
# others listed behind it, cheapest first, for exploration to try), and
# prompts kept so the learner trains the local model and proposes
# per-prompt versions toward routing.keep_quality of that model. Replays
# the train split as traffic with feedback in batches, running `switchyard
# learn` after each and scoring the active version on the held-out split
# offline (`switchyard eval-version`: the stored local model read by the
# service's own local tier, the same router.Picker). Prints each batch,
# then one JSON line:
#
#   {"dataset", "prompts_replayed", "promotions", "static": {"quality",
#    "cost_usd"}, "active": {"quality", "cost_usd"}, "cost_share",
#    "quality_delta"}
#
# Knobs (environment): BATCH prompts a batch (500), LIMIT train prompts at
# most (4000), KEEP the quality goal, a share of the strongest model's
# (0.99), TARGET an absolute learner.target instead (unset), TOLERANCE
# (0.01), MIN_SAMPLES (30), LOCAL_MIN labelled prompts to train the local
# model (500), EXPLORE exploration share (0.3), EXPLORE_UNIFORM=1 to spend it
# uniformly over the alternatives (the baseline; default: aimed), TRAIN_FRAC and SEED of the
# split when the dataset fixes none (0.5, 1), PRICES the price file
# (../shared/datasets/prices.json from the repository root; models it
# lacks are priced from config/demo.yaml, which covers the shipped demo
# dataset), CONCURRENCY of the replay (16), REPEAT passes over the train
# split (1), CURVE a file to write the learning curve to (JSON lines:
# prompts, status, held-out quality and cost; unset: none), SHUFFLE=1 to
# replay the train split in a seeded random order rather than the file's
# (a file sorted by source otherwise replays one source first; the split
# itself goes by item id, so the held-out prompts are the same), DB a
# SQLite file to keep the service's database in (a new file; unset: a
# temporary one), for the admin page: each held-out measurement is
# recorded there as an eval run (`eval-version --record`, its JSON
# described in cmd/switchyard/evalversion.go).
set -euo pipefail

dataset=${1:?usage: scripts/loop.sh DATASET}
dataset=$(cd "$(dirname "$dataset")" && pwd)/$(basename "$dataset")
BATCH=${BATCH:-500}
LIMIT=${LIMIT:-4000}
KEEP=${KEEP:-0.99}
TARGET=${TARGET:-}
LOCAL_MIN=${LOCAL_MIN:-500}
TOLERANCE=${TOLERANCE:-0.01}
MIN_SAMPLES=${MIN_SAMPLES:-30}
EXPLORE=${EXPLORE:-0.3}
TRAIN_FRAC=${TRAIN_FRAC:-0.5}
SEED=${SEED:-1}
PRICES=${PRICES:-../shared/datasets/prices.json}
CONCURRENCY=${CONCURRENCY:-16}
REPEAT=${REPEAT:-1}
uniform=false
[ "${EXPLORE_UNIFORM:-}" != 1 ] || uniform=true

cd "$(dirname "$0")/.."
if [[ ! -f $PRICES ]]; then
	echo "scripts/loop.sh: price file $PRICES not found: set PRICES to a prices.json (the default is ../shared/datasets/prices.json beside the repository)" >&2
	exit 2
fi
PRICES=$(cd "$(dirname "$PRICES")" && pwd)/$(basename "$PRICES")
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
if [ "${SHUFFLE:-}" = 1 ]; then
	zcat -f "$dataset" | python3 -c 'import random, sys; l = sys.stdin.readlines(); random.Random(1).shuffle(l); sys.stdout.writelines(l)' >"$tmp/$(basename "${dataset%.gz}")"
	dataset="$tmp/$(basename "${dataset%.gz}")"
fi

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
classifier: {model: "", local: {enabled: true, threshold: 0.8, min_samples: $LOCAL_MIN}}
routing: {keep_quality: $KEEP, simple: $chain, moderate: $chain, complex: $chain}
exploration: $EXPLORE
exploration_uniform: $uniform
baseline_model: "$strong"
learner: {enabled: false, window: 168h, min_samples: $MIN_SAMPLES, tolerance: $TOLERANCE, keep_prompts: true${TARGET:+, target: $TARGET}}
YAML

db=$tmp/loop.db
if [ -n "${DB:-}" ]; then
	[ ! -e "$DB" ] || { echo "scripts/loop.sh: DB $DB exists: want a new file" >&2; exit 2; }
	db=$(cd "$(dirname "$DB")" && pwd)/$(basename "$DB")
fi
export DATABASE_URL="sqlite:$db"
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
echo "learner:      keep_quality $KEEP of $strong${TARGET:+ (absolute target $TARGET)}, tolerance $TOLERANCE, min_samples $MIN_SAMPLES, local model from $LOCAL_MIN prompts; exploration $EXPLORE$([ "$uniform" = false ] || echo ' (uniform)')"
echo

# Held out: the split's test part, never replayed, scored offline; each
# measurement is recorded in the service's database against the static
# table (version 1) and the prompts replayed so far.
heldout() {
	"$sy" eval-version --config "$tmp/static.yaml" --dataset "$dataset" --prices "$tmp/prices.json" --version "$1" \
		--split test --train-frac "$TRAIN_FRAC" --seed "$SEED" --json --record --static 1 --replayed "$2" 2>>"$tmp/eval-version.log"
}
heldout 1 0 >"$tmp/static-heldout.json"
static_cost=$(jq .cost_usd "$tmp/static-heldout.json")
static_quality=$(jq .quality "$tmp/static-heldout.json")
: >"$tmp/curve.jsonl"
printf '%-8s %-10s %-8s %-8s %s\n' prompts learn quality cost reason

sent=0
promotions=0
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
	heldout active "$sent" >"$tmp/active-heldout.json"
	jq -c --argjson sent "$sent" --arg status "$status" --argjson sq "$static_quality" --argjson sc "$static_cost" \
		'{prompts: $sent, status: $status, quality: .quality, cost_usd: .cost_usd, static_quality: $sq, cost_share: (.cost_usd / $sc), by_policy: .by_policy, n: .n}' \
		"$tmp/active-heldout.json" >>"$tmp/curve.jsonl"
	printf '%-8s %-10s %-8s %-8s %s\n' "$sent" "$status" "$(jq '.quality * 10000 | round / 10000' "$tmp/active-heldout.json")" \
		"$(jq --argjson sc "$static_cost" '.cost_usd / $sc * 1000 | round / 10' "$tmp/active-heldout.json")%" \
		"$(jq -r .reason "$tmp/learn.json" | cut -c1-140)"
	jq -r '.policy // empty | "                                     policy \(.status): \(.reason | .[0:150])"' "$tmp/learn.json"
	if [ "$status" = promoted ]; then
		promotions=$((promotions + 1))
		[ -n "$first_promotion" ] || first_promotion=$sent
	fi
	[ "$got" -lt "$n" ] && break
done
done
echo
echo "first promotion after: ${first_promotion:-none} prompts"
"$sy" table list --config "$tmp/static.yaml" >&2
"$sy" table diff 1 active --config "$tmp/static.yaml" >"$tmp/diff.txt" 2>&1 || true
head -40 "$tmp/diff.txt" >&2
[ -z "${CURVE:-}" ] || cp "$tmp/curve.jsonl" "$CURVE"
[ -f "$tmp/active-heldout.json" ] || heldout active "$sent" >"$tmp/active-heldout.json"
jq -c --arg dataset "$(basename "$dataset")" --argjson sent "$sent" --argjson promotions "$promotions" \
	--slurpfile s "$tmp/static-heldout.json" '
	{dataset: $dataset, prompts_replayed: $sent, promotions: $promotions,
	 static: {quality: $s[0].quality, cost_usd: $s[0].cost_usd},
	 active: {quality: .quality, cost_usd: .cost_usd},
	 cost_share: (.cost_usd / $s[0].cost_usd),
	 quality_delta: (.quality - $s[0].quality)}' "$tmp/active-heldout.json"
