#!/usr/bin/env bash
# bench/peers.sh — addrwalk serve side by side with Unbound, PowerDNS
# Recursor and Knot Resolver (and a bare Go UDP echo server, the ceiling
# of what a Go program answers on this machine: one datagram per system
# call, "echo", and up to 32 per recvmmsg/sendmmsg, "echob"), all on the same
# simulated, signed hierarchy (bench/simcount, internal/sim) and name list,
# all validating DNSSEC from the same trust anchor, in one run. One
# command, bounded (about 6 minutes with the defaults), one table.
#
#   bench/peers.sh                 full run (needs root: netns, port 53)
#   MODE=smoke bench/peers.sh      ~20 s: addrwalk and the echo server only,
#                                  one short round; checks the machinery (CI)
#   AW_BIN=/path/addrwalk bench/peers.sh   measure another addrwalk build
#   AW_BASE=/path/old-addrwalk bench/peers.sh
#                                  adds "base", an older build, in the same
#                                  rounds: before/after in one run
#
# Everything runs in a network namespace of its own (unique name, deleted
# on exit): its loopback is private, so the hierarchy can sit on port 53
# (the peers iterate to port 53 only) beside other benchmarks, and no
# packet leaves it. Every loop is bounded; everything started is stopped.
#
# What it measures, per resolver, in alternating rounds (A B C D A B C D…,
# so drift on a shared machine does not favour one side), min/median/max:
#   cold   restart with an empty cache, resolve the name list once
#          (dnsperf -n 1 -q COLD_OUTSTANDING): wall time, p50/p99 of the
#          answers, upstream queries by kind (simcount's /classes: type,
#          tier of server, TCP, re-asks of the same question to the same
#          server);
#   hot    every name cached: dnsperf for DURATION s with CLIENTS clients,
#          OUTSTANDING outstanding: QPS; then RATE queries/s for
#          LAT_DURATION s: p50/p99, how many answers took longer than
#          SLOW_MS (hot_slow) and the most of them among RATE/10
#          consecutive answers, a tenth of a second (hot_burst: a stall
#          shows as a burst, noise as a spread); for addrwalk and base
#          also how many of the queries waited longer than 0.25 ms in the
#          listening socket's queue before a reader took them
#          (hot_qwait, from addrwalk_udp_queue_wait_seconds): the share
#          of the slow answers that a late reader explains;
#   rss    resident memory after the hot rounds (kresd: its processes summed).
# and prints the ratios addrwalk/peer (QPS: >1 is better; the rest: <1).
#
# Peer settings, chosen to be comparable: THREADS (default 2) threads or
# processes each; a 64 MiB cache budget (addrwalk's default [cache] size;
# Unbound msg 22m + rrset 42m; Knot 64 MiB; PowerDNS has no byte budget);
# QNAME minimisation on; prefetch off. Peer quirks on a loopback hierarchy:
# Unbound do-not-query-localhost: no and local-zone nodefault for test. and
# the documentation reverse zone; PowerDNS an empty dont-query=; Knot the
# ALLOW_LOCAL flag (it drops 127/8 glue otherwise).
#
# Names: NAMES=0 (the default) asks the simulation's own 125 names (its
# bulk hosts under test. and its examples); NAMES=2000 (any number above
# 125) adds generated hosts to the hierarchy (sim.GeneratedNames: five per
# zone under com., net., org. and test., every other zone signed) for a
# list of that many names, as the issue's lab of 2000 names.
#
# Profiles: PROFILE_DIR=/some/dir writes CPU profiles of addrwalk (and
# base) taken through serve's /debug/pprof while they work: the first
# cold round (PROFILE_COLD_S seconds from the start, default 10) and the
# first hot round (its DURATION), as cpu-cold-PEER.prof and
# cpu-hot-PEER.prof, and prints the top of each (go tool pprof -top);
# `go tool pprof -http=127.0.0.1:8080 FILE` draws the flame graph.
#
# Environment: MODE, NAMES, PEERS (default "addrwalk unbound pdns kresd"), ROUNDS
# (3), DURATION (8), CLIENTS (10), OUTSTANDING (100), THREADS (2), RATE
# (10000), COLD_OUTSTANDING (20), SIM_LATENCY (1: the sim's per-server
# latencies stay on, so cold wall time includes server selection), ECHO
# (1: include the echo ceilings), SLOW_MS (0.3), HOT (0: cold rounds only, no hot rounds
# nor RSS), COLD (0: hot rounds only, the caches filled untimed), KEEP (1: keep the work directory; it holds each cold run's
# upstream queries in order, cold-PEER-ROUND.log, for a side-by-side diff).
#
# Stopped early (INT, TERM, or a failing command), it still stops every
# process it started and deletes its namespace and work directory.
set -euo pipefail
# A failing command says where, then exits through the EXIT traps.
trap 'echo "peers.sh: line $LINENO failed (exit $?)" >&2' ERR
# INT and TERM exit too (running the EXIT trap): bash alone would die
# without it, leaving the namespace and its processes behind.
trap 'exit 130' INT
trap 'exit 143' TERM

MODE=${MODE:-full}
if [[ $MODE == smoke ]]; then
	: "${PEERS:=addrwalk}" "${ROUNDS:=1}" "${DURATION:=2}" "${RATE:=2000}" "${LAT_DURATION:=1}" "${SIM_LATENCY:=0}"
fi
PEERS=${PEERS:-addrwalk unbound pdns kresd}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CLIENTS=${CLIENTS:-10}
OUTSTANDING=${OUTSTANDING:-100}
THREADS=${THREADS:-2}
RATE=${RATE:-10000}
SLOW_MS=${SLOW_MS:-0.3}
LAT_DURATION=${LAT_DURATION:-3}
COLD_OUTSTANDING=${COLD_OUTSTANDING:-20}
SIM_LATENCY=${SIM_LATENCY:-1}
ECHO=${ECHO:-1}
HOT=${HOT:-1}
COLD=${COLD:-1}
NAMES=${NAMES:-0}
PROFILE_DIR=${PROFILE_DIR:-}
PROFILE_COLD_S=${PROFILE_COLD_S:-10}
root=$(cd "$(dirname "$0")/.." && pwd)

# Outside the namespace: install what is missing, build, make the
# namespace and run this script again inside it.
if [[ -z ${PEERS_NS:-} ]]; then
	need=()
	command -v dnsperf >/dev/null || need+=(dnsperf)
	command -v dig >/dev/null || need+=(bind9-dnsutils)
	command -v curl >/dev/null || need+=(curl)
	[[ " $PEERS " != *" unbound "* ]] || command -v unbound >/dev/null || need+=(unbound)
	[[ " $PEERS " != *" pdns "* ]] || command -v pdns_recursor >/dev/null || need+=(pdns-recursor)
	[[ " $PEERS " != *" kresd "* ]] || command -v kresd >/dev/null || need+=(knot-resolver)
	if ((${#need[@]})); then
		echo "installing ${need[*]}" >&2
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	fi
	work=$(mktemp -d /tmp/addrwalk-peers.XXXXXX)
	ns=awpeers-$$-$RANDOM
	cleanup_outer() {
		# Whatever the inner run left (it was killed): only processes of
		# this script's own namespace.
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
		[[ ${KEEP:-0} == 1 ]] && echo "work directory kept: $work" >&2 || rm -rf "$work"
	}
	trap cleanup_outer EXIT
	echo "building addrwalk, simcount and udpecho" >&2
	(cd "$root" && go build -o "$work/simcount" ./bench/simcount && go build -o "$work/udpecho" ./bench/udpecho)
	if [[ -n ${AW_BIN:-} ]]; then cp "$AW_BIN" "$work/addrwalk"; else (cd "$root" && go build -o "$work/addrwalk" ./cmd/addrwalk); fi
	if [[ -n ${AW_BASE:-} ]]; then
		cp "$AW_BASE" "$work/base"
		PEERS="$PEERS base"
	fi
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	# In the background and waited for: a signal to this shell is handled
	# at once (a foreground child would delay the traps until it ends).
	PEERS=$PEERS PEERS_NS=$ns PEERS_WORK=$work ip netns exec "$ns" bash "$0" &
	inner=$!
	rc=0
	wait "$inner" || rc=$?
	exit "$rc"
fi

work=$PEERS_WORK
mkdir -p "$work/res"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
COUNTER=127.77.0.1:8053
declare -A ADDR=([addrwalk]=127.77.0.2 [unbound]=127.77.0.3 [pdns]=127.77.0.4 [kresd]=127.77.0.5 [echo]=127.77.0.6 [base]=127.77.0.7 [echob]=127.77.0.8)
# READY_TRIES bounds the readiness polls (0.1 s apart): 20 s is far more
# than any of the servers takes to start, even on a loaded machine.
READY_TRIES=200

simflags=()
[[ $SIM_LATENCY == 1 ]] || simflags+=(-no-latency)
(cd "$work" && exec ./simcount -port 53 -hints sim-root.hints -anchor sim-root.ds -names names.txt -names-count "$NAMES" -http "$COUNTER" "${simflags[@]}" >simcount.log 2>&1) &
pids+=($!)
for ((i = 0; i < READY_TRIES; i++)); do curl -fs "http://$COUNTER/count" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://$COUNTER/count" >/dev/null || { echo "simcount did not come up" >&2; cat "$work/simcount.log" >&2; exit 1; }
nnames=$(wc -l <"$work/names.txt")
# The trust anchor's DS rdata (". 86400 IN DS 42944 13 2 D9D1…").
ds_rdata=$(awk '$4 == "DS" {print $5, $6, $7, $8; exit}' "$work/sim-root.ds")

# The peers' configurations.
cat >"$work/unbound.conf" <<EOF
server:
	interface: ${ADDR[unbound]}
	port: 53
	num-threads: $THREADS
	so-reuseport: yes
	do-not-query-localhost: no
	root-hints: "$work/sim-root.hints"
	trust-anchor-file: "$work/sim-root.ds"
	module-config: "validator iterator"
	local-zone: "test." nodefault
	local-zone: "2.0.192.in-addr.arpa." nodefault
	trust-anchor-signaling: no
	root-key-sentinel: no
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
	msg-cache-size: 22m
	rrset-cache-size: 42m
	outgoing-range: 4096
	num-queries-per-thread: 2048
	do-ip6: no
remote-control:
	control-enable: no
EOF
mkdir -p "$work/pdns"
cat >"$work/pdns/recursor.conf" <<EOF
local-address=${ADDR[pdns]}
local-port=53
allow-from=127.0.0.0/8
hint-file=$work/sim-root.hints
dont-query=
threads=$THREADS
reuseport=yes
pdns-distributes-queries=no
dnssec=validate
lua-config-file=$work/pdns/ta.lua
qname-minimization=yes
socket-dir=$work/pdns
daemon=no
disable-syslog=yes
quiet=yes
loglevel=3
query-local-address=0.0.0.0
EOF
cat >"$work/pdns/ta.lua" <<EOF
clearTA('.')
addTA('.', "$ds_rdata")
EOF
cat >"$work/kresd.conf" <<EOF
net.listen('${ADDR[kresd]}', 53, { kind = 'dns' })
net.ipv6 = false
modules.load('hints > iterate')
hints.root_file('$work/sim-root.hints')
trust_anchors.remove('.')
trust_anchors.add('. IN DS $ds_rdata')
cache.open(64 * MB, 'lmdb://$work/kres-cache')
policy.add(policy.all(policy.FLAGS({'ALLOW_LOCAL'})))
-- test. and the documentation reverse zone are special-use names Knot
-- answers itself; here they are the hierarchy's (PASS ends the rules
-- before the special names are looked at).
policy.add(policy.suffix(policy.PASS, {todname('test.'), todname('2.0.192.in-addr.arpa.')}))
EOF
cat >"$work/addrwalk.toml" <<EOF
[cache]
size = "64MiB"
EOF

# start PEER: start it with an empty cache and wait until it answers.
# Sets pid_PEER (kresd: pids, one process per thread).
declare -A PID
start() {
	local p=$1 a=${ADDR[$1]}
	case $p in
	addrwalk | base)
		"$work/$p" serve --config "$work/addrwalk.toml" --listen "$a:53" --root-hints "$work/sim-root.hints" \
			--allow-loopback --metrics "$a:9153" --log-level warn --trust-anchor "$work/sim-root.ds" 2>>"$work/$p.log" &
		PID[$p]=$!
		;;
	unbound)
		unbound -d -c "$work/unbound.conf" 2>>"$work/unbound.log" &
		PID[$p]=$!
		;;
	pdns)
		pdns_recursor --config-dir="$work/pdns" >>"$work/pdns.log" 2>&1 &
		PID[$p]=$!
		;;
	kresd)
		rm -rf "$work/kres-cache" "$work/kres-run"
		mkdir -p "$work/kres-run"
		PID[$p]=""
		for ((t = 0; t < THREADS; t++)); do
			kresd -n -q -c "$work/kresd.conf" "$work/kres-run" >>"$work/kresd.log" 2>&1 </dev/null &
			PID[$p]+=" $!"
		done
		;;
	echo)
		"$work/udpecho" -listen "$a:53" -sockets "$THREADS" 2>>"$work/echo.log" &
		PID[$p]=$!
		;;
	echob)
		"$work/udpecho" -batch -listen "$a:53" -sockets "$THREADS" 2>>"$work/echob.log" &
		PID[$p]=$!
		;;
	esac
	for q in ${PID[$p]}; do pids+=("$q"); done
	# A non-recursive question for the root: any reply means it is up,
	# and it sends nothing upstream.
	for ((i = 0; i < READY_TRIES; i++)); do
		dig +norec +time=1 +tries=1 @"$a" . SOA >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "$p did not come up; its log:" >&2
	tail -20 "$work/$p.log" >&2
	return 1
}
stop() {
	local q
	for q in ${PID[$1]}; do kill "$q" 2>/dev/null || true; done
	for q in ${PID[$1]}; do wait "$q" 2>/dev/null || true; done
}
rss() { # resident KiB of PEER's processes
	local q t=0
	for q in ${PID[$1]}; do t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$q/status"))); done
	echo "$t"
}
rec() { echo "$3" >>"$work/res/$1.$2"; } # rec PEER METRIC VALUE

# profile PEER KIND ROUND SECONDS: when PROFILE_DIR is set, starts a CPU
# profile of addrwalk or base for the first round of KIND in the
# background and sets prof to its curl's pid (waited for by the caller;
# curl -m bounds it); otherwise sets prof to "".
prof=""
profile() {
	prof=""
	[[ -n $PROFILE_DIR && $3 == 1 && ($1 == addrwalk || $1 == base) ]] || return 0
	curl -fs -m $(($4 + 20)) -o "$work/cpu-$2-$1.prof" "http://${ADDR[$1]}:9153/debug/pprof/profile?seconds=$4" &
	prof=$!
}

# pct FILE P: the P-th percentile (0-100) of dnsperf -v latencies, in ms.
pct() {
	awk '$1 == ">" {print $NF * 1000}' "$1" | sort -n | awk -v p="$2" '{v[NR] = $1} END {
		if (NR == 0) { print "nan"; exit }
		i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print v[i] }'
}

# slow FILE: how many dnsperf -v latencies exceed SLOW_MS, and the most
# of them among RATE/10 consecutive answers.
slow() {
	awk -v lim="$SLOW_MS" -v blk="$((RATE / 10))" '$1 == ">" {
		n++; if ($NF * 1000 > lim) { s++; b[int(n / blk)]++ } }
		END { m = 0; for (i in b) if (b[i] > m) m = b[i]; print s + 0, m }' "$1"
}

# qwaited PEER: the count of queries addrwalk (or base) saw wait longer
# than 0.25 ms in its sockets' queues so far (the histogram's total less
# its 0.25 ms bucket); nothing for the other peers, or when the scrape
# fails.
qwaited() {
	[[ $1 == addrwalk || $1 == base ]] || return 0
	{ curl -fs "http://${ADDR[$1]}:9153/metrics" || true; } | awk '
		/^addrwalk_udp_queue_wait_seconds_bucket\{le="0.00025"\}/ {b = $2}
		/^addrwalk_udp_queue_wait_seconds_count/ {c = $2}
		END { if (c != "") printf "%d\n", c - b }'
}

# cold PEER ROUND: an empty cache, the name list once.
cold() {
	local p=$1 f="$work/cold-$1-$2.txt" t0 t1
	curl -fs -X POST "http://$COUNTER/reset" >/dev/null
	start "$p"
	profile "$p" cold "$2" "$PROFILE_COLD_S"
	t0=$(date +%s.%N)
	dnsperf -s "${ADDR[$p]}" -d "$work/names.txt" -n 1 -q "$COLD_OUTSTANDING" -t 10 -v >"$f" 2>&1
	t1=$(date +%s.%N)
	[[ -z $prof ]] || wait "$prof" || echo "cold profile of $p failed" >&2
	local up lost
	up=$(curl -fs "http://$COUNTER/classes")
	curl -fs "http://$COUNTER/log" >"$work/cold-$1-$2.log"
	lost=$(awk '/Queries lost:/ {print $3}' "$f")
	rec "$p" cold_wall_s "$(echo "$t1 - $t0" | bc -l)"
	rec "$p" cold_p50_ms "$(pct "$f" 50)"
	rec "$p" cold_p99_ms "$(pct "$f" 99)"
	rec "$p" cold_lost "$lost"
	rec "$p" cold_rcodes "$(awk '/Response codes:/ {$1 = $2 = ""; print}' "$f")"
	for kv in $up; do rec "$p" "up_${kv%%=*}" "${kv#*=}"; done
	printf '  %-8s cold %d: %s, wall %.2f s, lost %s\n' "$p" "$2" "$up" "$(echo "$t1 - $t0" | bc -l)" "$lost"
	stop "$p"
	# Every name must get an answer (the bogus ones SERVFAIL): a loss is
	# a broken setup, not a slow resolver.
	[[ $lost == 0 ]] || { echo "$p lost $lost of $nnames cold queries; see $f" >&2; exit 1; }
}

# hot PEER ROUND: QPS at full load, then latency at RATE queries/s.
hot() {
	local p=$1 f="$work/hot-$1-$2.txt" g="$work/lat-$1-$2.txt"
	profile "$p" hot "$2" "$DURATION"
	dnsperf -s "${ADDR[$p]}" -d "$work/names.txt" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -T 1 >"$f" 2>&1
	[[ -z $prof ]] || wait "$prof" || echo "hot profile of $p failed" >&2
	local w0 w1
	w0=$(qwaited "$p")
	# The scrape allocates, and may start a collection (the hot rounds
	# allocate nothing else): let it end before the timed run.
	[[ -z $w0 ]] || sleep 0.5
	dnsperf -s "${ADDR[$p]}" -d "$work/names.txt" -l "$LAT_DURATION" -c "$CLIENTS" -Q "$RATE" -T 1 -v >"$g" 2>&1
	w1=$(qwaited "$p")
	local qps sl
	qps=$(awk '/Queries per second:/ {print $4}' "$f")
	[[ -n $qps ]] || { echo "dnsperf against $p printed no QPS; see $f" >&2; exit 1; }
	rec "$p" hot_qps "$qps"
	rec "$p" hot_lost "$(awk '/Queries lost:/ {print $3}' "$f")"
	rec "$p" hot_p50_ms "$(pct "$g" 50)"
	rec "$p" hot_p99_ms "$(pct "$g" 99)"
	read -r -a sl < <(slow "$g")
	rec "$p" hot_slow "${sl[0]}"
	rec "$p" hot_burst "${sl[1]}"
	[[ -z $w0 || -z $w1 ]] || rec "$p" hot_qwait $((w1 - w0))
	printf '  %-8s hot %d: %.0f QPS, p99 at %d/s %s ms, %s answers over %s ms (at most %s in 0.1 s)%s\n' "$p" "$2" "$qps" "$RATE" "$(pct "$g" 99)" \
		"${sl[0]}" "$SLOW_MS" "${sl[1]}" "$([[ -z $w0 || -z $w1 ]] || echo ", $((w1 - w0)) queued over 0.25 ms")"
}

echo "== $nnames names; peers: $PEERS; $THREADS threads each; all validating; sim latency $([[ $SIM_LATENCY == 1 ]] && echo on || echo off)"
if [[ $COLD == 1 ]]; then
	echo "== cold: $ROUNDS rounds, each resolver restarted with an empty cache"
	for ((r = 1; r <= ROUNDS; r++)); do
		for p in $PEERS; do cold "$p" "$r"; done
	done
fi

targets=$PEERS
[[ $ECHO != 1 || $HOT != 1 ]] || targets+=" echo echob"
if [[ $HOT == 1 ]]; then
	echo "== hot: $ROUNDS rounds of ${DURATION}s, $CLIENTS clients, $OUTSTANDING outstanding"
	for p in $targets; do
		start "$p"
		# Twice through the list: every name is cached (the packet caches
		# too) before the first timed round.
		dnsperf -s "${ADDR[$p]}" -d "$work/names.txt" -n 2 -q "$COLD_OUTSTANDING" >/dev/null 2>&1
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		for p in $targets; do hot "$p" "$r"; done
	done
	for p in $PEERS; do rec "$p" rss_mib "$(echo "$(rss "$p") / 1024" | bc -l)"; done
fi

# stats PEER METRIC: "min/median/max" of the rounds; med PEER METRIC: median.
stats() {
	[[ -s $work/res/$1.$2 ]] || { echo "-"; return; }
	sort -g "$work/res/$1.$2" | awk '{v[NR] = $1} END {printf "%.4g/%.4g/%.4g", v[1], v[int((NR + 1) / 2)], v[NR]}'
}
med() {
	[[ -s $work/res/$1.$2 ]] || { echo "nan"; return; }
	sort -g "$work/res/$1.$2" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

echo
echo "== results: min/median/max over $ROUNDS rounds (upstream: median per cold run of $nnames names)"
metrics="hot_qps hot_p50_ms hot_p99_ms hot_slow hot_burst hot_qwait cold_wall_s cold_p50_ms cold_p99_ms cold_lost up_total up_type-A up_type-AAAA up_type-NS up_type-DS up_type-DNSKEY up_type-other up_tier-root up_tier-tld up_tier-auth up_tcp up_reask up_dup rss_mib"
{
	printf '%s' metric
	for p in $targets; do printf '\t%s' "$p"; done
	for p in $PEERS; do [[ $p == addrwalk ]] || printf '\taddrwalk/%s' "$p"; done
	printf '\n'
	for m in $metrics; do
		printf '%s' "$m"
		for p in $targets; do printf '\t%s' "$(stats "$p" "$m")"; done
		for p in $PEERS; do
			[[ $p == addrwalk ]] && continue
			a=$(med addrwalk "$m") b=$(med "$p" "$m")
			printf '\t%s' "$(awk -v a="$a" -v b="$b" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "-"; else printf "%.2f", a / b }')"
		done
		printf '\n'
	done
} | column -t -s $'\t'
if [[ $ECHO == 1 && $HOT == 1 && " $PEERS " == *" addrwalk "* ]]; then
	printf 'addrwalk hot QPS as a fraction of the Go UDP echo ceiling: %s plain, %s batched (recvmmsg/sendmmsg)\n' \
		"$(awk -v a="$(med addrwalk hot_qps)" -v b="$(med echo hot_qps)" 'BEGIN { printf "%.2f", a / b }')" \
		"$(awk -v a="$(med addrwalk hot_qps)" -v b="$(med echob hot_qps)" 'BEGIN { printf "%.2f", a / b }')"
fi
if [[ $COLD == 1 ]]; then
	for p in $PEERS; do printf 'rcodes of the cold run, %s: %s\n' "$p" "$(tail -1 "$work/res/$p.cold_rcodes")"; done
fi
echo "(QPS: higher is better; latency, wall, upstream queries, RSS: lower is better. Per-round lines above.)"
if [[ -n $PROFILE_DIR ]]; then
	mkdir -p "$PROFILE_DIR"
	for f in "$work"/cpu-*.prof; do
		[[ -s $f ]] || continue
		cp "$f" "$PROFILE_DIR/"
		echo "== $(basename "$f"): the top costs (flat, then cumulative)"
		go tool pprof -top -nodecount=8 "$f" 2>/dev/null | sed -n '/flat%/,$p'
		go tool pprof -top -cum -nodecount=12 "$f" 2>/dev/null | sed -n '/flat%/,$p'
	done
fi
