#!/usr/bin/env bash
# examples/fleet/fleet.sh — a fleet of addrwalk serve instances sharing a
# Redis cache, behind dnsdist, all on loopback addresses, resolving the
# built-in simulated hierarchy (addrwalk sim), so it runs offline.
#
#   fleet.sh start         Redis, the sim, FLEET_N instances, dnsdist
#   fleet.sh stop          stop everything this script started
#   fleet.sh status        what runs, with pids and addresses
#   fleet.sh kill N        SIGKILL instance N (a crash)
#   fleet.sh restart N     start instance N again
#   fleet.sh redis-kill    SIGKILL Redis;  fleet.sh redis-start  start it again
#
# Layout (FLEET_NET=127.0.99, FLEET_PORT=5300 by default):
#   dnsdist     127.0.99.100:5300  (UDP+TCP; what clients use)
#   instance N  127.0.99.N:5300    (N = 1..FLEET_N), /metrics on 127.0.99.N:9153
#   Redis       127.0.99.10:6379   (no persistence; protected by its loopback bind)
#   sim         127.10.x.y:SIM_PORT (the simulated root, TLDs and zones)
#
# Environment: FLEET_DIR (state: configs, logs, pids; default
# /tmp/addrwalk-fleet), FLEET_NET, FLEET_PORT, FLEET_N (default 3),
# REDIS_PORT (6379), SIM_PORT (5353), METRICS_PORT (9153), SHARED=0 (no
# [cachedb]), READ_TIMEOUT ([cachedb] read-timeout, default 10ms),
# SIM_LATENCY=1 (keep the sim's simulated latency), ADDRWALK (a built
# binary; default: go build into FLEET_DIR). Needs redis-server and dnsdist
# (Debian packages); it never starts them as system services.
set -euo pipefail

FLEET_DIR=${FLEET_DIR:-/tmp/addrwalk-fleet}
FLEET_NET=${FLEET_NET:-127.0.99}
FLEET_PORT=${FLEET_PORT:-5300}
FLEET_N=${FLEET_N:-3}
REDIS_PORT=${REDIS_PORT:-6379}
SIM_PORT=${SIM_PORT:-5353}
METRICS_PORT=${METRICS_PORT:-9153}
SHARED=${SHARED:-1}
READ_TIMEOUT=${READ_TIMEOUT:-10ms}
SIM_LATENCY=${SIM_LATENCY:-0}
export FLEET_NET FLEET_PORT FLEET_N
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# READY_TRIES bounds readiness polls (50 ms apart): 20 s is far more than
# any of these servers takes to start, even on a loaded CI machine.
READY_TRIES=400

die() { echo "fleet: $*" >&2; exit 1; }

# wait_tcp HOST PORT: poll until something accepts TCP connections there.
wait_tcp() {
	local i
	for ((i = 0; i < READY_TRIES; i++)); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	die "nothing listens on $1:$2 after $((READY_TRIES / 20)) s (see $FLEET_DIR/*.log)"
}

# launch NAME CMD...: start CMD in the background, detached from this
# script's output, and remember its pid.
launch() {
	local name=$1
	shift
	"$@" </dev/null >"$FLEET_DIR/$name.log" 2>&1 &
	echo $! >"$FLEET_DIR/$name.pid"
}

# halt NAME SIGNAL: signal a process started here and wait (bounded) until
# it is gone.
halt() {
	local pidf="$FLEET_DIR/$1.pid" pid i
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	rm -f "$pidf"
	kill "-$2" "$pid" 2>/dev/null || return 0
	for ((i = 0; i < READY_TRIES; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
}

instance_config() {
	local i=$1
	cat <<CONF
# addrwalk serve, instance $i of the fleet (written by fleet.sh)
[server]
listen = ["$FLEET_NET.$i:$FLEET_PORT"]
metrics = "$FLEET_NET.$i:$METRICS_PORT"

[access]
allow = ["127.0.0.0/8"]

[resolver]
root-hints = "$FLEET_DIR/sim-root.hints"
port = $SIM_PORT
allow-loopback = true

[dnssec]
trust-anchor-file = "$FLEET_DIR/sim-root.ds"

[local]
# dnsdist's health check asks for this name: answered here, it proves the
# instance serves without depending on upstream servers.
records = ["health.fleet. 60 IN A 127.0.0.1"]
CONF
	if [ "$SHARED" = 1 ]; then
		cat <<CONF

[cachedb]
backend = "redis"
addresses = ["$FLEET_NET.10:$REDIS_PORT"]
read-timeout = "$READ_TIMEOUT"
CONF
	fi
}

start_instance() {
	local i=$1
	instance_config "$i" >"$FLEET_DIR/addrwalk$i.toml"
	launch "addrwalk$i" "$ADDRWALK" serve --config "$FLEET_DIR/addrwalk$i.toml"
	wait_tcp "$FLEET_NET.$i" "$FLEET_PORT"
}

start_redis() {
	launch redis redis-server --bind "$FLEET_NET.10" --port "$REDIS_PORT" --save "" --appendonly no \
		--protected-mode no --daemonize no --logfile "" --dir "$FLEET_DIR"
	wait_tcp "$FLEET_NET.10" "$REDIS_PORT"
}

cmd_start() {
	command -v redis-server >/dev/null || die "redis-server not installed (apt-get install redis-server)"
	command -v dnsdist >/dev/null || die "dnsdist not installed (apt-get install dnsdist)"
	mkdir -p "$FLEET_DIR"
	if [ -z "${ADDRWALK:-}" ]; then
		ADDRWALK="$FLEET_DIR/addrwalk"
		(cd "$root" && go build -o "$ADDRWALK" ./cmd/addrwalk)
	fi
	echo "$ADDRWALK" >"$FLEET_DIR/binary"
	local simflags=(--quiet --port "$SIM_PORT" --hints "$FLEET_DIR/sim-root.hints" --anchor "$FLEET_DIR/sim-root.ds")
	[ "$SIM_LATENCY" = 1 ] || simflags+=(--no-latency)
	rm -f "$FLEET_DIR/sim-root.hints" "$FLEET_DIR/sim-root.ds"
	launch sim "$ADDRWALK" sim "${simflags[@]}"
	local i
	for ((i = 0; i < READY_TRIES; i++)); do [ -s "$FLEET_DIR/sim-root.ds" ] && break; sleep 0.05; done
	local rootaddr
	rootaddr=$(awk '$3 == "A" || $4 == "A" {print $NF; exit}' "$FLEET_DIR/sim-root.hints")
	wait_tcp "$rootaddr" "$SIM_PORT"
	[ "$SHARED" = 1 ] && start_redis
	for ((i = 1; i <= FLEET_N; i++)); do start_instance "$i"; done
	launch dnsdist dnsdist --supervised --disable-syslog -C "$here/dnsdist.conf"
	wait_tcp "$FLEET_NET.100" "$FLEET_PORT"
	echo "fleet up: dnsdist $FLEET_NET.100:$FLEET_PORT -> $FLEET_N instances; Redis $( [ "$SHARED" = 1 ] && echo "$FLEET_NET.10:$REDIS_PORT" || echo off); state in $FLEET_DIR"
}

cmd_stop() {
	# Signal everything first, then wait: each takes about a second to
	# drain and exit, and they need not take turns.
	local f pids=() pid i
	for f in "$FLEET_DIR"/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		rm -f "$f"
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < READY_TRIES; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	echo "fleet stopped"
}

cmd_status() {
	local f name
	for f in "$FLEET_DIR"/*.pid; do
		[ -e "$f" ] || continue
		name=${f##*/}
		name=${name%.pid}
		if kill -0 "$(cat "$f")" 2>/dev/null; then echo "$name: running (pid $(cat "$f"))"; else echo "$name: dead"; fi
	done
}

ADDRWALK=${ADDRWALK:-$(cat "$FLEET_DIR/binary" 2>/dev/null || true)}
case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
kill) halt "addrwalk${2:?instance number}" KILL ;;
restart) start_instance "${2:?instance number}" ;;
redis-kill) halt redis KILL ;;
redis-start) start_redis ;;
*) die "usage: fleet.sh start|stop|status|kill N|restart N|redis-kill|redis-start" ;;
esac
