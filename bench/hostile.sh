#!/usr/bin/env bash
# Hostile-network suite: the same tests (bench/hostile) against addrwalk
# serve and, in long mode, against Unbound, on the simulated hierarchy
# (bench/simcount), inside a private network namespace the script creates
# and deletes (only its loopback is up: nothing can leave it). One summary
# line per test and resolver.
#
#   bench/hostile.sh           short mode (CI): addrwalk only, a few seconds
#                              per test, exits non-zero when a goal fails
#   MODE=long bench/hostile.sh long mode: addrwalk and Unbound, bigger runs
#   AW_BIN=/path/addrwalk      run another addrwalk binary (e.g. a "before")
#   FORGE_ONLY=1               only the forged-reply flood matrix
#   FLOOD_ONLY=1 ROUNDS=N      only the random-subdomain floods (live and
#                              dead zone), N rounds (default 3, at most
#                              10), addrwalk then (long mode) Unbound in
#                              each round: ABAB, for a loaded machine
#   LEGIT_RATE=N               the floods' legitimate client asks N times a
#                              second (long mode 200: 4,000 samples per
#                              phase for the p99; short mode 20)
#   NO_UNBOUND=1               long mode without Unbound (to compare two
#                              addrwalk builds or settings)
#   AW_SERVER='key = value'    extra lines for addrwalk's [server] table
#                              (e.g. 'jostle-timeout = "1m"')
#   AW_CACHE='key = value'     lines for addrwalk's [cache] table (e.g.
#                              'size = "8MiB"', Unbound's default 4m
#                              rrset-cache-size + 4m msg-cache-size, to
#                              compare RSS at equal cache budgets)
#   PROFILE_DIR=DIR            during addrwalk's live-zone flood, save a
#                              5 s execution trace, a 10 s CPU profile,
#                              then a heap profile and the goroutines
#                              there (from its /debug/pprof listener);
#                              the heap and goroutines near the end of
#                              the dead-zone flood too
#
# Without root (no namespace) it runs on the host's loopback, except in CI,
# where that is an error; the forged-reply flood needs root (a raw socket).
# Every load is bounded in count and time; traffic goes only to 127.0.0.0/8.
set -euo pipefail
MODE=${MODE:-short}
root=$(cd "$(dirname "$0")/.." && pwd)

if [[ -z ${HOSTILE_WORK:-} ]]; then
	# Outside the namespace: install, build, make the namespace, run this
	# script again inside it, delete it.
	work=$(mktemp -d /tmp/addrwalk-hostile.XXXXXX)
	ns=""
	outer_cleanup() {
		if [[ -n $ns ]]; then ip netns del "$ns" 2>/dev/null || true; fi
		rm -rf "$work"
	}
	trap outer_cleanup EXIT
	if [[ $MODE == long ]] && ! command -v unbound >/dev/null; then
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unbound >/dev/null
	fi
	echo "building simcount and hostile" >&2
	(cd "$root" && go build -o "$work/simcount" ./bench/simcount && go build -o "$work/hostile" ./bench/hostile)
	if [[ -z ${AW_BIN:-} ]]; then
		(cd "$root" && go build -o "$work/addrwalk" ./cmd/addrwalk)
		AW_BIN=$work/addrwalk
	fi
	export HOSTILE_WORK=$work AW_BIN MODE
	candidate=aw-hostile-$$-$RANDOM
	if ip netns add "$candidate" 2>/dev/null; then
		ns=$candidate
		ip netns exec "$ns" ip link set lo up
		echo "in network namespace $ns" >&2
		ip netns exec "$ns" bash "$0"
		exit
	fi
	if [[ -n ${CI:-} ]]; then
		echo "hostile.sh: cannot create a network namespace (needs root)" >&2
		exit 1
	fi
	echo "hostile.sh: no network namespace (not root?): running on the host's loopback" >&2
	bash "$0"
	exit
fi

work=$HOSTILE_WORK
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# Unbound iterates to port 53 only, so long mode serves the hierarchy there;
# short mode picks a random port so it can run beside other benchmarks.
if [[ $MODE == long ]]; then SIM_PORT=53; else SIM_PORT=${SIM_PORT:-$((20000 + RANDOM % 20000))}; fi
net=$((RANDOM % 200 + 20))
AW_ADDR=127.78.$net.2:5300
UB_ADDR=127.78.$net.3:5300
COUNTER=127.78.$net.1:8053
# The dead zone's only server: a socket that reads and never answers.
DEAD_ADDR=127.78.$net.9:$((20000 + RANDOM % 20000))
# The forged-reply flood's victim zone victim.lab.: its server is the
# hostile forge process itself, at this address; every resolver has it as
# a stub zone.
FORGE_AUTH=127.78.$net.53:$((20000 + RANDOM % 20000))
READY_TRIES=100

(cd "$work" && exec ./simcount -port "$SIM_PORT" -no-latency -http "$COUNTER" >simcount.log 2>&1) &
pids+=($!)
for ((i = 0; i < READY_TRIES; i++)); do [[ -s $work/sim-root.hints ]] && curl -fs "http://$COUNTER/count" >/dev/null 2>&1 && break; sleep 0.1; done

if [[ $MODE == long ]]; then
	# MDUR: the malformed test's time, long enough for its 10^6 packets.
	DUR=20s CONNS=2000 PACKETS=1000000 FRAMES=5000 RATE=3000 IDLE="" FDUR=20s LEGIT=200 MDUR=40s
else
	# Short: a 2 s idle timeout keeps the TCP test to seconds.
	DUR=3s CONNS=300 PACKETS=100000 FRAMES=1000 RATE=1000 IDLE='tcp-idle-timeout = "2s"' FDUR=3s LEGIT=20 MDUR=3s
fi
LEGIT=${LEGIT_RATE:-$LEGIT}

# aw_conf ADDR EXTRA: addrwalk's configuration listening on ADDR, with
# EXTRA lines in [resolver].
aw_conf() {
	cat <<EOF
[server]
listen = ["$1"]
metrics = "${1%:*}:9153"
$IDLE
${AW_SERVER:-}
[access]
# Loopback is allowed unless denied: the refusal test's source is denied.
allow = ["127.0.0.1/32", "127.0.1.0/24"]
deny = ["127.0.0.2/32"]
[cache]
${AW_CACHE:-}
[resolver]
root-hints = "$work/sim-root.hints"
port = $SIM_PORT
allow-loopback = true
$2
[dnssec]
validation = "off"
[[stub-zone]]
zone = "dead.lab."
servers = ["$DEAD_ADDR"]
[[stub-zone]]
zone = "victim.lab."
servers = ["$FORGE_AUTH"]
EOF
}
# ub_conf ADDR EXTRA: Unbound's, likewise (EXTRA in server:).
ub_conf() {
	cat <<EOF
server:
	interface: ${1%:*}
	port: ${1##*:}
$2
	do-not-query-localhost: no
	root-hints: "$work/sim-root.hints"
	local-zone: "test." nodefault
	local-zone: "2.0.192.in-addr.arpa." nodefault
	module-config: "iterator"
	access-control: 127.0.0.0/8 refuse
	access-control: 127.0.0.1/32 allow
	access-control: 127.0.1.0/24 allow
	username: ""
	chroot: ""
	directory: "$work"
	pidfile: "$work/unbound.pid"
	use-syslog: no
	logfile: "$work/unbound.log"
	do-ip6: no
stub-zone:
	name: "dead.lab."
	stub-addr: ${DEAD_ADDR%:*}@${DEAD_ADDR##*:}
stub-zone:
	name: "victim.lab."
	stub-addr: ${FORGE_AUTH%:*}@${FORGE_AUTH##*:}
remote-control:
	control-enable: no
EOF
}
aw_conf "$AW_ADDR" "" >"$work/addrwalk.toml"
ub_conf "$UB_ADDR" "" >"$work/unbound.conf"

wait_dns() {
	for ((i = 0; i < READY_TRIES; i++)); do
		"$work/hostile" refuse -target "$1" -src 127.0.0.1 -n 1 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "resolver $1 did not come up" >&2
	return 1
}
count() { curl -fs "http://$COUNTER/count"; }

# floods LABEL ADDR PID: the random-subdomain flood under the live zone,
# then under the dead zone (its silent server counts what reaches it).
# Each first measures the legitimate client for DUR without the flood (the
# quiet p50/p99 the flood's p99 is divided by). addrwalk's SERVFAIL
# reasons, goroutines and heap come from its metrics listener.
floods() {
	local label=$1 addr=$2 pid=$3 a=(-label "$1" -target "$2" -pid "$3")
	[[ $label == unbound ]] || a+=(-metrics "http://${addr%:*}:9153/metrics")
	[[ $MODE == long ]] || a+=(-assert)
	local before after
	before=$(count) || return 1
	local prof=()
	if [[ -n ${PROFILE_DIR:-} && $label != unbound ]]; then
		# 3 s into the live-zone flood (after its quiet phase), a 5 s
		# execution trace (where a goroutine waited: go tool trace
		# -pprof=sched, sync, syscall), then a 10 s CPU profile, then the
		# heap and the goroutines at that point of the flood.
		local base=$PROFILE_DIR/flood-$label-$(date +%H%M%S)
		(sleep $((${DUR%s} + 3))
			curl -fs -o "$base.trace" "http://${addr%:*}:9153/debug/pprof/trace?seconds=5"
			curl -fs -o "$base.cpu.pprof" "http://${addr%:*}:9153/debug/pprof/profile?seconds=10"
			curl -fs -o "$base.heap.pprof" "http://${addr%:*}:9153/debug/pprof/heap"
			curl -fs -o "$base.goroutine.txt" "http://${addr%:*}:9153/debug/pprof/goroutine?debug=1") &
		prof=($!)
	fi
	"$work/hostile" flood "${a[@]}" -duration "$DUR" -rate "$RATE" -legit-rate "$LEGIT" -zone example.org. || return 1
	((${#prof[@]} == 0)) || wait "${prof[0]}" || true
	after=$(count) || return 1
	echo "$label flood: $((after - before)) queries reached the simulated servers ($(((after - before) / ${DUR%s})) /s)"
	# The silent server counts only during the flood, not its quiet phase.
	"$work/hostile" blackhole -label "$label" -target "$DEAD_ADDR" -after "$DUR" -duration "$DUR" &
	local bh=$!
	if [[ -n ${PROFILE_DIR:-} && $label != unbound ]]; then
		# The heap and the goroutines near the end of the dead-zone flood.
		local base=$PROFILE_DIR/deadflood-$label-$(date +%H%M%S)
		(sleep $((2 * ${DUR%s} - 2))
			curl -fs -o "$base.heap.pprof" "http://${addr%:*}:9153/debug/pprof/heap"
			curl -fs -o "$base.goroutine.txt" "http://${addr%:*}:9153/debug/pprof/goroutine?debug=1") &
		prof=($!)
	fi
	"$work/hostile" flood "${a[@]}" -duration "$DUR" -rate "$RATE" -legit-rate "$LEGIT" -zone dead.lab. || { wait "$bh"; return 1; }
	((${#prof[@]} == 0)) || wait "${prof[0]}" || true
	wait "$bh" || return 1
	kill -0 "$pid" 2>/dev/null || { echo "$label died" >&2; return 1; }
}

# suite LABEL ADDR PID: every test against one resolver. Each step ends
# the suite on failure by itself: set -e does not apply inside a function
# called from an || list.
suite() {
	local label=$1 addr=$2 pid=$3 a=(-label "$1" -target "$2" -pid "$3")
	[[ $MODE == long ]] || a+=(-assert)
	"$work/hostile" tcp "${a[@]}" -duration "$DUR" -conns "$CONNS" -idle-max "$([[ $MODE == long ]] && echo 40s || echo 5s)" || return 1
	"$work/hostile" malformed "${a[@]}" -duration "$MDUR" -packets "$PACKETS" -frames "$FRAMES" || return 1
	"$work/hostile" refuse "${a[@]}" -src 127.0.0.2 -n 2000 || return 1
	floods "$@"
}

# The forged-reply flood runs against a resolver started for each
# configuration: the full port range, and the source ports narrowed to 16
# (FORGE_LO-FORGE_HI) so that forgeries do reach the query's socket and
# what else the resolver checks (ID, 0x20, cookies) is what stops them.
FORGE_LO=$((20000 + RANDOM % 20000))
FORGE_HI=$((FORGE_LO + 15))
AW_NARROW="outgoing-port-exclude = [\"1024-$((FORGE_LO - 1))\", \"$((FORGE_HI + 1))-65535\"]"
UB_NARROW=$'\toutgoing-port-avoid: "0-65535"\n\toutgoing-port-permit: "'"$FORGE_LO-$FORGE_HI"'"'
round=0
# forge_round KIND LABEL PORTS EXTRA ASSERT: start KIND (addrwalk or
# unbound) with EXTRA configuration, run the flood guessing PORTS, stop it.
# ASSERT "assert" makes a poisoning fail the script.
forge_round() {
	local kind=$1 label=$2 ports=$3 extra=$4 assert=$5 addr pid
	round=$((round + 1))
	addr=127.78.$net.$((100 + round)):5300
	if [[ $kind == addrwalk ]]; then
		aw_conf "$addr" "$extra" >"$work/forge$round.toml"
		"$AW_BIN" serve --config "$work/forge$round.toml" --log-level warn 2>>"$work/addrwalk.log" &
	else
		ub_conf "$addr" "$extra" | sed "s/unbound.pid/unbound$round.pid/" >"$work/forge$round.conf"
		unbound -d -c "$work/forge$round.conf" 2>>"$work/unbound.log" &
	fi
	pid=$!
	pids+=("$pid")
	wait_dns "$addr" || return 1
	local a=(-label "$label" -target "$addr" -pid "$pid" -auth "$FORGE_AUTH" -zone victim.lab. -duration "$FDUR" -ports "$ports")
	[[ $assert == assert ]] && a+=(-assert)
	"$work/hostile" forge "${a[@]}" || return 1
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# start_aw ADDR, start_ub ADDR: start a resolver on the configuration
# above and wait until it answers; its pid is in $started.
start_aw() {
	"$AW_BIN" serve --config "$work/addrwalk.toml" --log-level warn 2>>"$work/addrwalk.log" &
	started=$!
	pids+=("$started")
	wait_dns "$1"
}
start_ub() {
	unbound -d -c "$work/unbound.conf" 2>>"$work/unbound.log" &
	started=$!
	pids+=("$started")
	wait_dns "$1"
}
stop_pid() { kill "$1"; wait "$1" 2>/dev/null || true; }

if [[ -n ${FLOOD_ONLY:-} ]]; then
	# Bounded: at most 10 rounds of two floods per resolver.
	rounds=$(( ${ROUNDS:-3} < 10 ? ${ROUNDS:-3} : 10 ))
	for ((r = 1; r <= rounds; r++)); do
		echo "== round $r: addrwalk ($AW_BIN)"
		start_aw "$AW_ADDR" || { tail -20 "$work/addrwalk.log" >&2; exit 1; }
		floods addrwalk "$AW_ADDR" "$started" || { tail -20 "$work/addrwalk.log" >&2; exit 1; }
		stop_pid "$started"
		if [[ $MODE == long && -z ${NO_UNBOUND:-} ]]; then
			echo "== round $r: unbound $(unbound -V | head -1)"
			start_ub "$UB_ADDR"
			floods unbound "$UB_ADDR" "$started"
			stop_pid "$started"
		fi
	done
	exit
fi

if [[ -z ${FORGE_ONLY:-} ]]; then
	"$AW_BIN" serve --config "$work/addrwalk.toml" --log-level warn 2>>"$work/addrwalk.log" &
	aw=$!
	pids+=("$aw")
	wait_dns "$AW_ADDR"
	echo "== addrwalk ($AW_BIN), mode $MODE"
	suite addrwalk "$AW_ADDR" "$aw" || { tail -20 "$work/addrwalk.log" >&2; exit 1; }
	kill "$aw"
	wait "$aw" 2>/dev/null || true

	if [[ $MODE == long && -z ${NO_UNBOUND:-} ]]; then
		unbound -d -c "$work/unbound.conf" 2>>"$work/unbound.log" &
		ub=$!
		pids+=("$ub")
		wait_dns "$UB_ADDR"
		echo "== unbound $(unbound -V | head -1)"
		suite unbound "$UB_ADDR" "$ub"
	fi
fi

echo "== forged-reply flood ($FDUR per row; 16 ports = $FORGE_LO-$FORGE_HI)"
fail() { tail -20 "$work/addrwalk.log" >&2; exit 1; }
forge_round addrwalk aw "1024-65535" "" assert || fail
forge_round addrwalk aw/16p+0x20 "$FORGE_LO-$FORGE_HI" "$AW_NARROW
use-caps-for-id = true" assert || fail
forge_round addrwalk aw/16p+ck "$FORGE_LO-$FORGE_HI" "$AW_NARROW
cookies = true" assert || fail
if [[ $MODE == long ]]; then
	# The control: ID and 4 bits of port only, where poisoning is expected.
	forge_round addrwalk aw/16p "$FORGE_LO-$FORGE_HI" "$AW_NARROW" no
	forge_round addrwalk aw/16p+0x20+ck "$FORGE_LO-$FORGE_HI" "$AW_NARROW
use-caps-for-id = true
cookies = true" no
	if [[ -z ${NO_UNBOUND:-} ]]; then
		forge_round unbound ub "1024-65535" "" no
		forge_round unbound ub/16p "$FORGE_LO-$FORGE_HI" "$UB_NARROW" no
		forge_round unbound ub/16p+0x20 "$FORGE_LO-$FORGE_HI" "$UB_NARROW
	use-caps-for-id: yes" no
	fi
fi
