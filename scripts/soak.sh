#!/usr/bin/env bash
# Soak test (outside `make test`): a steady rate of /ask through
# `switchyard serve` on PostgreSQL for DURATION seconds, while
#   - the database is cut off twice (the proxy in front of PostgreSQL is
#     killed and restarted: every connection drops, new ones are refused;
#     the shared PostgreSQL server itself is left alone), and
#   - the upstream flaps (the demo upstream is killed for 10 s every 40 s).
# It ends with SIGTERM and checks that the rows written equal the requests
# the service accepted (switchyard_requests_total), and samples the
# service's RSS every 5 s.
#
#   scripts/soak.sh [DURATION_SECONDS=600] [RATE=20]
#
# Needs: go, psql, socat, PostgreSQL at $PGHOST:$PGPORT (127.0.0.1:5432,
# user postgres, trust).
set -euo pipefail
DURATION=${1:-600}
RATE=${2:-20}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PROXY_PORT=${PROXY_PORT:-25432}
UP_PORT=${UP_PORT:-28081}
SY_PORT=${SY_PORT:-28080}
DB=soak_$$
cd "$(dirname "$0")/.."
go build -o bin/switchyard ./cmd/switchyard
WORK=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "${UP_PID:-}" ] && kill "$UP_PID" 2>/dev/null || true
	[ -n "${PROXY_PID:-}" ] && { pkill -P "$PROXY_PID" 2>/dev/null; kill "$PROXY_PID" 2>/dev/null; } || true
	psql -h "$PGHOST" -p "$PGPORT" -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
psql -h "$PGHOST" -p "$PGPORT" -U postgres -qc "CREATE DATABASE $DB"

start_proxy() { socat TCP-LISTEN:$PROXY_PORT,fork,reuseaddr TCP:$PGHOST:$PGPORT & PROXY_PID=$!; }
start_upstream() { bin/switchyard upstream --addr 127.0.0.1:$UP_PORT --latency-scale 0.05 >/dev/null 2>&1 & UP_PID=$!; }
start_proxy
start_upstream
sleep 1

SWITCHYARD_UPSTREAM=http://127.0.0.1:$UP_PORT/v1 \
DATABASE_URL="postgres://postgres@127.0.0.1:$PROXY_PORT/$DB?sslmode=disable" \
	bin/switchyard serve --config config/demo.yaml --addr 127.0.0.1:$SY_PORT >"$WORK/serve.out" 2>"$WORK/serve.log" &
SY_PID=$!
for _ in $(seq 50); do curl -sf localhost:$SY_PORT/healthz >/dev/null && break; sleep 0.2; done

# Load: replay the demo dataset in a loop at RATE per second.
(
	end=$((SECONDS + DURATION))
	while [ $SECONDS -lt $end ]; do
		bin/switchyard replay --dataset datasets/demo.jsonl.gz --target http://127.0.0.1:$SY_PORT \
			--rate "$RATE" --concurrency 16 --json --limit $(( (end - SECONDS) * RATE < 600 ? (end - SECONDS) * RATE + 1 : 600 )) \
			>>"$WORK/replay.jsonl" 2>>"$WORK/replay.err" || true
	done
) &
LOAD_PID=$!
pids+=("$LOAD_PID")

# Faults and memory samples.
rss_peak=0; rss_first=0; rss_last=0; db_cuts=0; flaps=0
t0=$SECONDS
cut_at=( $((DURATION / 3)) $((2 * DURATION / 3)) )
while kill -0 "$LOAD_PID" 2>/dev/null; do
	el=$((SECONDS - t0))
	rss=$(awk '/VmRSS/ {print $2}' /proc/$SY_PID/status)
	[ "$rss_first" = 0 ] && [ "$el" -ge 10 ] && rss_first=$rss
	rss_last=$rss; [ "$rss" -gt "$rss_peak" ] && rss_peak=$rss
	for c in "${cut_at[@]}"; do
		if [ "$el" -ge "$c" ] && [ "$el" -lt $((c + 5)) ] && kill -0 "$PROXY_PID" 2>/dev/null; then
			# socat serves each connection in a child: end those too, so
			# pooled connections drop as they would in a restart.
			pkill -P "$PROXY_PID" 2>/dev/null || true
			kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
			db_cuts=$((db_cuts + 1)); echo "t=${el}s database cut off"
			sleep 15; start_proxy; echo "t=$((SECONDS - t0))s database back"
		fi
	done
	if [ $((el % 40)) -ge 30 ] && kill -0 "$UP_PID" 2>/dev/null; then
		kill "$UP_PID"; wait "$UP_PID" 2>/dev/null || true; flaps=$((flaps + 1))
		echo "t=${el}s upstream down"; sleep 10; start_upstream; echo "t=$((SECONDS - t0))s upstream up"
	fi
	sleep 5
done

accepted=$(curl -s localhost:$SY_PORT/metrics | awk '/^switchyard_requests_total\{/ {s += $NF} END {print s + 0}')
kill -TERM "$SY_PID"; set +e; wait "$SY_PID"; code=$?; set -e
rows=$(psql -h "$PGHOST" -p "$PGPORT" -U postgres -d "$DB" -tAc "SELECT count(*) FROM requests")
read -r sent ok failed < <(jq -s '[map(.sent), map(.ok), map(.failed)] | map(add) | @tsv' -r "$WORK/replay.jsonl" 2>/dev/null || echo "? ? ?")
log_lines=$(wc -l <"$WORK/serve.log")
echo "duration_s=$DURATION rate=$RATE sent=$sent ok=$ok failed=$failed accepted=$accepted rows=$rows"
echo "database_cuts=$db_cuts upstream_flaps=$flaps serve_exit=$code log_lines=$log_lines"
echo "rss_kb first=$rss_first peak=$rss_peak last=$rss_last"
echo "log lines by message:"
jq -r '.msg' "$WORK/serve.log" 2>/dev/null | sort | uniq -c | sort -rn | head -8 || true
grep -E '"msg":"database (unreachable|still unreachable|reachable again)"' "$WORK/serve.log" | cut -c1-200 || true
[ "$rows" = "$accepted" ] || { echo "FAIL: rows $rows != accepted $accepted"; exit 1; }
echo "PASS: every accepted request has its row"
