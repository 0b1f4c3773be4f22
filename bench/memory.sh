#!/usr/bin/env bash
# Memory: each resolver's RSS after it cached NAMES distinct names (half
# answered by a wildcard, half NXDOMAIN) from the simulated hierarchy
# (bench/simcount), with the same cache budget: addrwalk's [cache] size =
# SIZE_MIB, Unbound's rrset-cache-size + msg-cache-size = SIZE_MIB (2:1, its
# own ratio). Prints RSS on the way and bytes per name for each, and for
# addrwalk the size of each memory part (/metrics), the heap and the GC's
# share of CPU (gctrace). Runs in a network namespace it creates and
# deletes; the hierarchy, the resolvers and the client are on its loopback.
#
#   bash bench/memory.sh                          10^5 names, 64 MiB, addrwalk and Unbound
#   NAMES=1000000 SIZE_MIB=16 PEERS=addrwalk bash bench/memory.sh
#                                                 fill past the budget: the plateau
#   ROUNDS=3                                      alternate the resolvers (ABAB)
#   AW_BIN=/path/addrwalk                         another addrwalk binary (a "before")
#   MAX_INFLIGHT=N                                addrwalk's [server] max-inflight
#   AW_ENV="GOGC=50"                              environment for addrwalk serve
#   PROFILE_DIR=/tmp/p                            keep addrwalk's heap profiles (idle, after
#                                                 the fill) and memory status there
#
# Every load is bounded: NAMES (at most 10^7) and MAXDUR per fill.
set -euo pipefail
NAMES=${NAMES:-100000}
SIZE_MIB=${SIZE_MIB:-64}
PEERS=${PEERS:-"addrwalk unbound"}
ROUNDS=${ROUNDS:-1}
WINDOW=${WINDOW:-32}
MAXDUR=${MAXDUR:-600s}
STEPS=${STEPS:-10}
MAX_INFLIGHT=${MAX_INFLIGHT:-1000}
AW_ENV=${AW_ENV:-}
PROFILE_DIR=${PROFILE_DIR:-}
root=$(cd "$(dirname "$0")/.." && pwd)

if [[ -z ${MEMORY_WORK:-} ]]; then
	work=$(mktemp -d /tmp/addrwalk-memory.XXXXXX)
	ns=""
	outer_cleanup() {
		if [[ -n $ns ]]; then ip netns del "$ns" 2>/dev/null || true; fi
		rm -rf "$work"
	}
	trap outer_cleanup EXIT INT TERM
	if [[ $PEERS == *unbound* ]] && ! command -v unbound >/dev/null; then
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unbound >/dev/null
	fi
	echo "building simcount and hostile" >&2
	(cd "$root" && go build -o "$work/simcount" ./bench/simcount && go build -o "$work/hostile" ./bench/hostile)
	if [[ -z ${AW_BIN:-} ]]; then
		(cd "$root" && go build -o "$work/addrwalk" ./cmd/addrwalk)
		AW_BIN=$work/addrwalk
	fi
	export MEMORY_WORK=$work AW_BIN AW_ENV PROFILE_DIR NAMES SIZE_MIB PEERS ROUNDS WINDOW MAXDUR STEPS MAX_INFLIGHT
	ns=aw-memory-$$-$RANDOM
	ip netns add "$ns" || { echo "memory.sh: cannot create a network namespace (needs root)" >&2; exit 1; }
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" bash "$0"
	exit
fi

work=$MEMORY_WORK
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# Unbound iterates to port 53 only; the namespace is ours, so the hierarchy
# serves there.
COUNTER=127.79.0.1:8053
READY_TRIES=100
(cd "$work" && exec ./simcount -port 53 -no-latency -http "$COUNTER" >simcount.log 2>&1) &
pids+=($!)
for ((i = 0; i < READY_TRIES; i++)); do [[ -s $work/sim-root.hints ]] && curl -fs "http://$COUNTER/count" >/dev/null 2>&1 && break; sleep 0.1; done

bytes=$((SIZE_MIB * 1024 * 1024))
wait_dns() {
	for ((i = 0; i < READY_TRIES; i++)); do
		"$work/hostile" refuse -target "$1" -src 127.0.0.1 -n 1 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "resolver $1 did not come up" >&2
	return 1
}

# profile ROUND WHEN PID METRICS: with PROFILE_DIR, keep addrwalk's heap
# profile (after a collection: the live heap), its goroutines and its
# memory status (/proc smaps_rollup: RSS by kind).
profile() {
	[[ -n $PROFILE_DIR ]] || return 0
	mkdir -p "$PROFILE_DIR"
	local base=$PROFILE_DIR/addrwalk$1-$2
	curl -fsS -o "$base.heap" "http://$4/debug/pprof/heap?gc=1" || true
	curl -fsS -o "$base.goroutine" "http://$4/debug/pprof/goroutine?debug=1" || true
	curl -fsS -o "$base.metrics" "http://$4/metrics" || true
	cat "/proc/$3/smaps_rollup" "/proc/$3/status" >"$base.proc" 2>/dev/null || true
}

# run_addrwalk ROUND: serve with the budget, fill, stop.
run_addrwalk() {
	local addr=127.79.$1.2:5300 metrics=127.79.$1.2:9153
	cat >"$work/addrwalk$1.toml" <<EOF
[server]
listen = ["$addr"]
max-inflight = $MAX_INFLIGHT
metrics = "$metrics"
[resolver]
root-hints = "$work/sim-root.hints"
allow-loopback = true
ratelimit = 0
[dnssec]
validation = "off"
[cache]
size = "${SIZE_MIB}MiB"
EOF
	# shellcheck disable=SC2086 # AW_ENV is a list of NAME=VALUE words
	env GODEBUG=gctrace=1 $AW_ENV "$AW_BIN" serve --config "$work/addrwalk$1.toml" --log-level warn 2>"$work/addrwalk$1.log" &
	local pid=$!
	pids+=("$pid")
	wait_dns "$addr"
	profile "$1" idle "$pid" "$metrics"
	"$work/hostile" fill -label "addrwalk/${SIZE_MIB}MiB" -target "$addr" -pid "$pid" -names "$NAMES" -window "$WINDOW" \
		-steps "$STEPS" -duration "$MAXDUR" -metrics "http://$metrics/metrics"
	profile "$1" filled "$pid" "$metrics"
	local gcs
	gcs=$(grep -c '^gc ' "$work/addrwalk$1.log" || true)
	echo "addrwalk/${SIZE_MIB}MiB gc: $gcs collections; last: $(grep '^gc ' "$work/addrwalk$1.log" | tail -1)"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# run_unbound ROUND: Unbound with rrset-cache-size + msg-cache-size = the
# budget, fill, stop.
run_unbound() {
	local addr=127.79.$1.3:5300
	cat >"$work/unbound$1.conf" <<EOF
server:
	interface: ${addr%:*}
	port: ${addr##*:}
	rrset-cache-size: $((bytes * 2 / 3))
	msg-cache-size: $((bytes / 3))
	do-not-query-localhost: no
	root-hints: "$work/sim-root.hints"
	local-zone: "test." nodefault
	local-zone: "2.0.192.in-addr.arpa." nodefault
	module-config: "iterator"
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$work"
	pidfile: "$work/unbound$1.pid"
	use-syslog: no
	logfile: "$work/unbound$1.log"
	do-ip6: no
remote-control:
	control-enable: no
EOF
	unbound -d -c "$work/unbound$1.conf" 2>>"$work/unbound$1.log" &
	local pid=$!
	pids+=("$pid")
	wait_dns "$addr"
	"$work/hostile" fill -label "unbound/${SIZE_MIB}MiB" -target "$addr" -pid "$pid" -names "$NAMES" -window "$WINDOW" \
		-steps "$STEPS" -duration "$MAXDUR"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

echo "== $NAMES names, budget $SIZE_MIB MiB, $ROUNDS round(s); addrwalk $AW_BIN${PEERS/addrwalk/}; $(unbound -V 2>/dev/null | head -1 || true)"
for ((r = 1; r <= ROUNDS; r++)); do
	for p in $PEERS; do
		"run_$p" "$r"
	done
done
