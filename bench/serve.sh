#!/usr/bin/env bash
# bench/serve.sh — addrwalk serve against Unbound on the same simulated
# hierarchy, all on loopback.
#
#   1. serves internal/sim's hierarchy on 127.10.x.y:53 (bench/simcount,
#      which is `addrwalk sim` plus a count of the queries received);
#   2. starts addrwalk serve on 127.77.0.2:53 and Unbound on 127.77.0.3:53,
#      both from the sim's root hints (Unbound: do-not-query-localhost: no,
#      local-zone "test." nodefault, iterator only unless VALIDATE=1: no trust
#      anchor, no extra queries);
#   3. warms both caches with the same names, then runs dnsperf against
#      each for DURATION seconds with the same clients and prints QPS,
#      latency and the ratio addrwalk/unbound;
#   4. restarts both cold and resolves the name list once, counting the
#      upstream queries each sent (from the sim's count) and the wall time.
#
# Needs root (port 53, apt-get). Sends traffic only to 127.0.0.0/8; every
# loop is bounded and everything started here is stopped on exit.
#
# Environment: DURATION (default 10), CLIENTS (default 10), OUTSTANDING
# (dnsperf -q, default 100), ROUNDS (alternating rounds, default 3),
# SIM_LATENCY=1 keeps the sim's simulated latency
# in the cold run (default off: it measures the resolvers, not the sleeps).
# VALIDATE=1 makes both validate DNSSEC from the sim's signed root (Unbound:
# module-config "validator iterator" with the sim's trust anchor; addrwalk:
# --trust-anchor), to measure what validation costs each.
set -euo pipefail

DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-10}
OUTSTANDING=${OUTSTANDING:-100}
ROUNDS=${ROUNDS:-3}
SIM_LATENCY=${SIM_LATENCY:-0}
VALIDATE=${VALIDATE:-0}
AW_ADDR=127.77.0.2
UB_ADDR=127.77.0.3
COUNTER=127.77.0.1:8053
METRICS=127.77.0.2:9153
# READY_TRIES bounds the readiness polls (0.1 s apart): 10 s is far more
# than any of the servers takes to start.
READY_TRIES=100

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/addrwalk-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v unbound >/dev/null || need+=(unbound)
command -v dig >/dev/null || need+=(bind9-dnsutils)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
	echo "installing ${need[*]}" >&2
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "building addrwalk and simcount" >&2
(cd "$root" && go build -o "$work/addrwalk" ./cmd/addrwalk && go build -o "$work/simcount" ./bench/simcount)

simflags=()
[[ $SIM_LATENCY == 1 ]] || simflags+=(-no-latency)
(cd "$work" && exec ./simcount -port 53 -hints sim-root.hints -anchor sim-root.ds -names names.txt -http "$COUNTER" "${simflags[@]}" >simcount.log 2>&1) &
pids+=($!)

# wait_dns ADDR: poll until ADDR answers a query (bounded).
wait_dns() {
	for ((i = 0; i < READY_TRIES; i++)); do
		if dig +short +time=1 +tries=1 @"$1" www.example.org A >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "server $1 did not come up" >&2
	return 1
}
wait_http() {
	for ((i = 0; i < READY_TRIES; i++)); do
		if curl -fs "http://$1" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "http $1 did not come up" >&2
	return 1
}
wait_http "$COUNTER/count"
nnames=$(wc -l <"$work/names.txt")

ub_modules=iterator ub_anchor="" aw_dnssec=(--no-validate) mode="no validation"
if [[ $VALIDATE == 1 ]]; then
	ub_modules="validator iterator"
	ub_anchor="	trust-anchor-file: \"$work/sim-root.ds\""
	aw_dnssec=(--trust-anchor "$work/sim-root.ds")
	mode="both validating"
fi

cat >"$work/unbound.conf" <<EOF
server:
	interface: $UB_ADDR
	port: 53
	num-threads: 2
	so-reuseport: yes
	do-not-query-localhost: no
	root-hints: "$work/sim-root.hints"
	local-zone: "test." nodefault
	local-zone: "2.0.192.in-addr.arpa." nodefault
	module-config: "$ub_modules"
$ub_anchor
	trust-anchor-signaling: no
	root-key-sentinel: no
	harden-dnssec-stripped: no
	prefetch: no
	qname-minimisation: yes
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$work"
	pidfile: "$work/unbound.pid"
	use-syslog: no
	logfile: "$work/unbound.log"
	verbosity: 0
	msg-cache-size: 64m
	rrset-cache-size: 128m
	outgoing-range: 4096
	num-queries-per-thread: 2048
	do-ip6: no
remote-control:
	control-enable: no
EOF

start_addrwalk() {
	"$work/addrwalk" serve --listen "$AW_ADDR:53" --root-hints "$work/sim-root.hints" \
		--allow-loopback --metrics "$METRICS" --log-level warn "${aw_dnssec[@]}" 2>>"$work/addrwalk.log" &
	aw_pid=$!
	pids+=("$aw_pid")
}
start_unbound() {
	unbound -d -c "$work/unbound.conf" 2>>"$work/unbound.log" &
	ub_pid=$!
	pids+=("$ub_pid")
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

reset_count() { curl -fs -X POST "http://$COUNTER/reset" >/dev/null; }
get_count() { curl -fs "http://$COUNTER/count"; }

# cold NAME ADDR: resolve the list once from a cold cache; print upstream
# queries and wall time.
cold() {
	reset_count
	local t0 t1
	t0=$(date +%s.%N)
	dnsperf -s "$2" -p 53 -d "$work/names.txt" -n 1 -q 20 -t 10 >"$work/cold-$1.txt" 2>&1
	t1=$(date +%s.%N)
	local lost
	lost=$(awk '/Queries lost:/ {print $3}' "$work/cold-$1.txt")
	printf '%-9s cold: %3d names, %4d upstream queries (%.1f per name), wall %.3f s, lost %s\n' \
		"$1" "$nnames" "$(get_count)" "$(echo "$(get_count) / $nnames" | bc -l)" "$(echo "$t1 - $t0" | bc -l)" "$lost"
}

echo "== cold runs ($nnames names, sim latency $([[ $SIM_LATENCY == 1 ]] && echo on || echo off), $mode) =="
start_addrwalk
wait_dns "$AW_ADDR"
# wait_dns resolved www.example.org; restart for a truly cold cache.
stop "$aw_pid"
start_addrwalk
for ((i = 0; i < READY_TRIES; i++)); do curl -fs "http://$METRICS/metrics" >/dev/null 2>&1 && break; sleep 0.1; done
cold addrwalk "$AW_ADDR"

start_unbound
wait_dns "$UB_ADDR"
stop "$ub_pid"
start_unbound
# Unbound has no readiness signal here: poll a name outside the list.
for ((i = 0; i < READY_TRIES; i++)); do
	dig +time=1 +tries=1 @"$UB_ADDR" . SOA +norec >/dev/null 2>&1 && break
	sleep 0.1
done
cold unbound "$UB_ADDR"

echo "== warm: both caches hold every name; dnsperf ${DURATION}s x $ROUNDS rounds, $CLIENTS clients, $OUTSTANDING outstanding =="
for addr in "$AW_ADDR" "$UB_ADDR"; do
	dnsperf -s "$addr" -p 53 -d "$work/names.txt" -n 2 >/dev/null 2>&1
done

# perf NAME ADDR ROUND: run dnsperf; print QPS and latency and add them to
# the totals.
perf() {
	dnsperf -s "$2" -p 53 -d "$work/names.txt" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -T 1 >"$work/perf-$1.txt" 2>&1
	local qps lat lost
	qps=$(awk '/Queries per second:/ {print $4}' "$work/perf-$1.txt")
	lat=$(awk '/Average Latency/ {print $4}' "$work/perf-$1.txt")
	lost=$(awk '/Queries lost:/ {print $3}' "$work/perf-$1.txt")
	printf '%-9s warm round %d: %10.0f QPS, average latency %8.3f ms, lost %s\n' "$1" "$3" "$qps" "$(echo "$lat * 1000" | bc -l)" "$lost"
	eval "qps_$1=\$(echo \"\$qps_$1 + $qps\" | bc -l)"
	eval "lat_$1=\$(echo \"\$lat_$1 + $lat\" | bc -l)"
}
qps_addrwalk=0 qps_unbound=0 lat_addrwalk=0 lat_unbound=0
# Alternate the two servers: on a small machine the load generator and
# the server share cores, and one round of each is at the mercy of noise.
for ((r = 1; r <= ROUNDS; r++)); do
	perf addrwalk "$AW_ADDR" "$r"
	perf unbound "$UB_ADDR" "$r"
done
printf 'mean over %d rounds: addrwalk %.0f QPS %.3f ms, unbound %.0f QPS %.3f ms\n' "$ROUNDS" \
	"$(echo "$qps_addrwalk / $ROUNDS" | bc -l)" "$(echo "$lat_addrwalk * 1000 / $ROUNDS" | bc -l)" \
	"$(echo "$qps_unbound / $ROUNDS" | bc -l)" "$(echo "$lat_unbound * 1000 / $ROUNDS" | bc -l)"
printf 'ratio addrwalk/unbound (QPS): %.2f\n' "$(echo "$qps_addrwalk / $qps_unbound" | bc -l)"
echo "addrwalk packet cache: $(curl -fs "http://$METRICS/metrics" | grep -E '^addrwalk_packet_cache_(hits_total|entries)' | tr '\n' ' ')"
