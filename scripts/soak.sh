#!/usr/bin/env bash
# Soak test (outside `make test`): a steady rate of /ask through
# `switchyard serve` on PostgreSQL for DURATION seconds, while
#   - PostgreSQL goes away twice, at one and two thirds of the run, and
#   - the upstream flaps (the demo upstream is killed for 10 s every 40 s).
# It ends with SIGTERM and checks, by SQL, that the rows written equal the
# requests the service accepted (switchyard_requests_total); it samples
# the service's RSS every 5 s and counts its log lines by level.
#
#   scripts/soak.sh [DURATION_SECONDS=600] [RATE=20]
#
# SOAK_PG chooses how PostgreSQL goes away:
#   cluster (default)  a private cluster made for the run with
#                      pg_createcluster (version SOAK_PG_VERSION=15, name
#                      SOAK_CLUSTER=soak, port SOAK_PG_PORT=5439), really
#                      stopped (`pg_ctlcluster stop -m fast`: every
#                      connection ends) and started again after
#                      SOAK_PG_DOWN=15 seconds, then dropped at the end.
#                      Needs root (the cluster runs as postgres).
#   proxy              the shared PostgreSQL at $PGHOST:$PGPORT
#                      (127.0.0.1:5432) reached through a socat proxy that
#                      is killed with every connection it carries and
#                      restarted: a restart as the service sees it, for a
#                      machine where the server itself may not be touched.
#
# SOAK_LOG=FILE keeps the service's log (JSON lines) after the run.
#
# Needs: go, psql, jq, curl; pg_createcluster (cluster) or socat (proxy).
set -euo pipefail
DURATION=${1:-600}
RATE=${2:-20}
SOAK_PG=${SOAK_PG:-cluster}
SOAK_PG_VERSION=${SOAK_PG_VERSION:-15}
SOAK_CLUSTER=${SOAK_CLUSTER:-soak}
SOAK_PG_PORT=${SOAK_PG_PORT:-5439}
SOAK_PG_DOWN=${SOAK_PG_DOWN:-15}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PROXY_PORT=${PROXY_PORT:-25432}
UP_PORT=${UP_PORT:-28081}
SY_PORT=${SY_PORT:-28080}
DB=soak_$$
cd "$(dirname "$0")/.."
go build -tags nomsgpack -o bin/switchyard ./cmd/switchyard
WORK=$(mktemp -d)
pids=()
case "$SOAK_PG" in
cluster) DBPORT=$SOAK_PG_PORT ;;
proxy) DBPORT=$PGPORT ;;
*) echo "SOAK_PG=$SOAK_PG: want cluster or proxy" >&2; exit 2 ;;
esac
sql() { psql -h 127.0.0.1 -p "$DBPORT" -U postgres "$@"; }
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "${SY_PID:-}" ] && kill "$SY_PID" 2>/dev/null || true
	[ -n "${UP_PID:-}" ] && kill "$UP_PID" 2>/dev/null || true
	[ -n "${PROXY_PID:-}" ] && { pkill -P "$PROXY_PID" 2>/dev/null; kill "$PROXY_PID" 2>/dev/null; } || true
	if [ "$SOAK_PG" = cluster ]; then
		pg_dropcluster --stop "$SOAK_PG_VERSION" "$SOAK_CLUSTER" 2>/dev/null || true
	else
		sql -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$SOAK_PG" = cluster ]; then
	if pg_lsclusters -h | awk -v v="$SOAK_PG_VERSION" -v c="$SOAK_CLUSTER" '$1 == v && $2 == c {f = 1} END {exit !f}'; then
		echo "cluster $SOAK_PG_VERSION/$SOAK_CLUSTER exists already; drop it or set SOAK_CLUSTER" >&2
		trap - EXIT; exit 2
	fi
	pg_createcluster "$SOAK_PG_VERSION" "$SOAK_CLUSTER" --port "$SOAK_PG_PORT" -- --auth-host=trust --auth-local=trust >/dev/null
	pg_ctlcluster "$SOAK_PG_VERSION" "$SOAK_CLUSTER" start
fi
for _ in $(seq 50); do sql -qc 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
sql -qc "CREATE DATABASE $DB"

# db_down and db_up take PostgreSQL away and bring it back.
start_proxy() { socat TCP-LISTEN:$PROXY_PORT,fork,reuseaddr TCP:$PGHOST:$PGPORT & PROXY_PID=$!; }
db_down() {
	if [ "$SOAK_PG" = cluster ]; then
		pg_ctlcluster "$SOAK_PG_VERSION" "$SOAK_CLUSTER" stop -m fast
	else
		# socat serves each connection in a child: end those too, so
		# pooled connections drop as they would in a restart.
		pkill -P "$PROXY_PID" 2>/dev/null || true
		kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
	fi
}
db_up() {
	if [ "$SOAK_PG" = cluster ]; then
		pg_ctlcluster "$SOAK_PG_VERSION" "$SOAK_CLUSTER" start
	else
		start_proxy
	fi
}
DSN_PORT=$DBPORT
if [ "$SOAK_PG" = proxy ]; then start_proxy; DSN_PORT=$PROXY_PORT; fi
start_upstream() { bin/switchyard upstream --addr 127.0.0.1:$UP_PORT --latency-scale 0.05 >/dev/null 2>&1 & UP_PID=$!; }
start_upstream
sleep 1

SWITCHYARD_UPSTREAM=http://127.0.0.1:$UP_PORT/v1 \
DATABASE_URL="postgres://postgres@127.0.0.1:$DSN_PORT/$DB?sslmode=disable" \
	bin/switchyard serve --config config/demo.yaml --addr 127.0.0.1:$SY_PORT >"$WORK/serve.out" 2>"$WORK/serve.log" &
SY_PID=$!
for _ in $(seq 100); do curl -sf localhost:$SY_PORT/healthz >/dev/null && break; sleep 0.2; done

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

# Faults and memory samples (every 5 s; one a minute is printed).
rss_peak=0; rss_first=0; rss_last=0; db_restarts=0; flaps=0; samples=()
t0=$SECONDS
cut_at=( $((DURATION / 3)) $((2 * DURATION / 3)) )
while kill -0 "$LOAD_PID" 2>/dev/null; do
	el=$((SECONDS - t0))
	rss=$(awk '/VmRSS/ {print $2}' /proc/$SY_PID/status)
	[ "$rss_first" = 0 ] && [ "$el" -ge 10 ] && rss_first=$rss
	rss_last=$rss; [ "$rss" -gt "$rss_peak" ] && rss_peak=$rss
	[ $(( ${#samples[@]} * 60 )) -le "$el" ] && samples+=("${el}s:$((rss / 1024))MB")
	if [ "$db_restarts" -lt 2 ] && [ "$el" -ge "${cut_at[$db_restarts]}" ]; then
		echo "t=${el}s database down ($SOAK_PG)"
		db_down
		sleep "$SOAK_PG_DOWN"; db_up; db_restarts=$((db_restarts + 1))
		echo "t=$((SECONDS - t0))s database back"
	fi
	if [ $((el % 40)) -ge 30 ] && kill -0 "$UP_PID" 2>/dev/null; then
		kill "$UP_PID"; wait "$UP_PID" 2>/dev/null || true; flaps=$((flaps + 1))
		echo "t=${el}s upstream down"; sleep 10; start_upstream; echo "t=$((SECONDS - t0))s upstream up"
	fi
	sleep 5
done

accepted=$(curl -s localhost:$SY_PORT/metrics | awk '/^switchyard_requests_total\{/ {s += $NF} END {print s + 0}')
kill -TERM "$SY_PID"; set +e; wait "$SY_PID"; code=$?; set -e
rows=$(sql -d "$DB" -tAc "SELECT count(*) FROM requests")
read -r sent ok failed < <(jq -s '[map(.sent), map(.ok), map(.failed)] | map(add) | @tsv' -r "$WORK/replay.jsonl" 2>/dev/null || echo "? ? ?")
log_lines=$(wc -l <"$WORK/serve.log")
echo "soak_pg=$SOAK_PG duration_s=$DURATION rate=$RATE sent=$sent ok=$ok failed=$failed accepted=$accepted rows=$rows"
echo "database_restarts=$db_restarts upstream_flaps=$flaps serve_exit=$code log_lines=$log_lines"
echo "rss_kb first=$rss_first peak=$rss_peak last=$rss_last"
echo "rss each minute: ${samples[*]}"
echo "log lines by level:"
jq -r '.level' "$WORK/serve.log" 2>/dev/null | sort | uniq -c | sort -rn || true
echo "log lines by message:"
jq -r '.msg' "$WORK/serve.log" 2>/dev/null | sort | uniq -c | sort -rn || true
grep -E '"msg":"(database|upstream|classifier) (unreachable|still unreachable|reachable again)"' "$WORK/serve.log" | cut -c1-220 || true
[ -n "${SOAK_LOG:-}" ] && cp "$WORK/serve.log" "$SOAK_LOG"
[ "$rows" = "$accepted" ] || { echo "FAIL: rows $rows != accepted $accepted"; exit 1; }
echo "PASS: every accepted request has its row"
