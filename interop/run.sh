#!/usr/bin/env bash
# interop/run.sh — issue 5: addrwalk serve's answers compared with
# Unbound's, both resolving from the same root over real authoritative
# servers (NSD).
#
#   1. installs nsd and unbound from Debian when missing (their packaged
#      services are never started: policy-rc.d forbids it where present,
#      and only the daemons this script starts, with its own config files,
#      are ever used);
#   2. generates a hierarchy (interop/gen): a root, five TLDs and a few
#      hundred zones on a dozen NSD instances, one per server role on its
#      own 127.53.x.y addresses, so every delegation is a real referral:
#      in-bailiwick and glueless delegations, sub-delegations, CNAME chains
#      across zones, wildcards, NXDOMAIN, NODATA, a TXT RRset that needs
#      TCP, MX/AAAA/SRV/CAA/PTR (in-addr.arpa and ip6.arpa, RFC 2317),
#      lame, dead (port unreachable) and silent (never answering) servers,
#      zones whose every server is lame, dead or silent, a delegation cycle,
#      and more edge cases (DNAME, CNAME loops and chains longer than the
#      restart limits, a referral that needs TCP, escaped and 250-byte
#      names, unknown types; see interop/gen);
#   3. starts, inside a network namespace of its own, the NSD instances,
#      Unbound on 127.0.1.1:53 and addrwalk serve on 127.0.1.2:53, both from
#      the same root hints (Unbound: iterator only, no DNSSEC, QNAME
#      minimisation, minimal responses, no prefetch, local zones that would
#      shadow the test data switched off);
#   4. asks both every question like a stub (interop/compare: RD=1, UDP
#      then TCP on TC, EDNS0 with 1232 bytes but every third question
#      without EDNS), Unbound first, then addrwalk, each from a cold cache
#      and then a second time from its cache, counting the queries the NSD
#      instances received in each pass;
#   5. compares rcode, AA/TC/RA/AD, TC of the UDP reply and the sorted
#      answer records without TTLs, prints "interop: N agree, M differ" and
#      each difference, and fails on a difference that
#      interop/known-differences.txt does not list with a reason;
#   6. (issue 7) does the same for a second, DNSSEC-signed hierarchy with a
#      root of its own on 127.54.x.y (interop/gen/dnssec.go: a signed root,
#      an NSEC and an NSEC3 TLD, secure, insecure and deliberately bogus
#      zones; keys made at every run), asked with the DO or AD bit of a
#      second pair of resolvers that validate from the root's DS: Unbound
#      (module-config "validator iterator", trust-anchor-file) on
#      127.0.1.3 and addrwalk serve (a [dnssec] section) on 127.0.1.4,
#      otherwise configured like the first pair; prints
#      "interop-dnssec: N agree, M differ". A separate tree and resolvers
#      keep the unsigned comparison exactly as it was.
#
# Run from anywhere as root: bash interop/run.sh. Sends packets only to
# 127.0.0.0/8 inside its own namespace; every wait is bounded; everything
# it started (processes, namespace, temporary directory) is removed on
# exit, also on failure. INTEROP_KEEP=1 keeps the temporary directory
# (logs, zone files, answers) for a look afterwards; ADDRWALK=FILE uses
# that addrwalk binary instead of building one; ZONES=N sizes the
# hierarchy; QMIN=0 turns QNAME minimisation off in both resolvers;
# INTEROP_DNSSEC=0 skips the signed hierarchy (step 6).
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin"

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

UNBOUND_ADDR=127.0.1.1
ADDRWALK_ADDR=127.0.1.2
# The validating pair, for the signed hierarchy.
UNBOUND_SEC_ADDR=127.0.1.3
ADDRWALK_SEC_ADDR=127.0.1.4
DNSSEC=${INTEROP_DNSSEC:-1}
# ZONES is the generator's zones-per-kind-per-TLD knob: 16 gives about
# 240 zones and 1,200 questions, each asked twice (cold, then cached).
# The names in known-differences.txt are those of the default.
ZONES=${ZONES:-16}
# Bounds, in seconds: starting a server, and one resolver's pass over all
# the questions (a pass takes under 10 s; the timeouts of the dead and
# silent servers make up most of it).
START_TIMEOUT=20
PASS_TIMEOUT=150
# UNBOUND_MAX_RTT (ms) is Unbound's infra-cache-max-rtt: a server whose
# retransmit timeout grows past it is taken as down. 376 ms doubled three
# times passes 1500 ms: four tries, under 3 s, before Unbound gives up.
UNBOUND_MAX_RTT=${UNBOUND_MAX_RTT:-1500}
# QMIN=0 runs both resolvers without QNAME minimisation (RFC 9156).
QMIN=${QMIN:-1}

if [ "$(id -u)" != 0 ]; then
	echo "interop: must run as root (network namespace, port 53)" >&2
	exit 1
fi

need=()
command -v ip >/dev/null || need+=(iproute2)
command -v nsd >/dev/null || need+=(nsd)
command -v unbound >/dev/null || need+=(unbound)
if ((${#need[@]})); then
	echo "interop: installing ${need[*]}"
	apt-get update -qq >/dev/null
	# Keep the packages' services from starting where no policy-rc.d does.
	prc=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		prc=/usr/sbin/policy-rc.d
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	[ -z "$prc" ] || rm -f "$prc"
fi

tmp=$(mktemp -d /tmp/aw-interop.XXXXXX)
ns=aw-interop-$$
pids=()
netns_made=0

cleanup() {
	local rc=$?
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	# Wait at most 5 s for them, then kill what is left.
	for ((i = 0; i < 50; i++)); do
		local alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	if ((netns_made)); then
		# Children the daemons forked (NSD's xfrd and servers) live in the
		# namespace too; every process there was started by this script.
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	fi
	wait 2>/dev/null
	if [ "${INTEROP_KEEP:-0}" = 1 ]; then
		echo "interop: kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fail MESSAGE LOG...: print the message and the tails of the logs, exit 1.
fail() {
	echo "interop: $1" >&2
	shift
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "--- $f" >&2
		if grep -q '^panic:' "$f"; then
			sed -n '/^panic:/,+25p' "$f" >&2
		else
			tail -n 20 "$f" >&2
		fi
	done
	exit 1
}

echo "interop: building"
if [ -n "${ADDRWALK:-}" ]; then
	cp "$ADDRWALK" "$tmp/addrwalk"
else
	go build -o "$tmp/addrwalk" ./cmd/addrwalk
fi
go build -o "$tmp/gen" ./interop/gen
go build -o "$tmp/compare" ./interop/compare
go build -o "$tmp/silent" ./interop/silent

hier=$tmp/hier
"$tmp/gen" -out "$hier" -zones "$ZONES"

ip netns add "$ns"
netns_made=1
ip -n "$ns" link set lo up
inns() { ip netns exec "$ns" "$@"; }

# Authoritative servers: one NSD instance per line of instances.txt
# (start_nsd DIR: those of the hierarchy in DIR).
addrs=()
nsd_confs=()
nsd_logs=()
start_nsd() {
	local name conf a more
	while read -r name conf a; do
		inns nsd -d -c "$conf" >"$1/nsd/$name/stderr.log" 2>&1 &
		pids+=($!)
		nsd_confs+=("$conf")
		nsd_logs+=("$1/nsd/$name/nsd.log" "$1/nsd/$name/stderr.log")
		read -r -a more <<<"$a"
		addrs+=("${more[@]}")
	done <"$1/instances.txt"
}
start_nsd "$hier"
((DNSSEC)) && start_nsd "$hier/dnssec"
read -r -a silent_addrs <"$hier/silent.txt"
inns "$tmp/silent" "${silent_addrs[@]}" >"$tmp/silent.log" 2>&1 &
pids+=($!)
inns timeout --foreground $((START_TIMEOUT + 5)) "$tmp/compare" wait -timeout "${START_TIMEOUT}s" "${addrs[@]}" ||
	fail "the authoritative servers did not start" "${nsd_logs[@]}"
echo "interop: ${#nsd_confs[@]} NSD instances on ${#addrs[@]} addresses"

# Unbound: iterator only (no DNSSEC), QNAME minimisation, no prefetch,
# minimal responses; the local zones Unbound serves by default that would
# shadow the test data are switched off. unbound_conf DIR ADDR HINTS
# MODULES [LINE...] writes DIR/unbound.conf, the extra LINEs in the server
# clause.
unbound_conf() {
	local dir=$1 addr=$2 hints=$3 modules=$4
	shift 4
	mkdir -p "$dir"
	{
		cat <<EOF
server:
	interface: $addr
	port: 53
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	root-hints: "$hints"
	qname-minimisation: $( ((QMIN)) && echo yes || echo no)
	module-config: "$modules"
	harden-glue: yes
	prefetch: no
	minimal-responses: yes
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: "$dir/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	so-reuseport: no
	# Give up on unresponsive servers after a few seconds and answer
	# SERVFAIL: by default (RTO doubling up to 2 minutes, and the
	# discard-timeout of 1.9 s dropping the client's query) Unbound sends
	# the stub no reply at all for a zone whose servers are all dead.
	infra-cache-max-rtt: $UNBOUND_MAX_RTT
	discard-timeout: 0
	local-zone: "test." nodefault
	local-zone: "example." nodefault
	local-zone: "arpa." nodefault
	local-zone: "in-addr.arpa." nodefault
	local-zone: "ip6.arpa." nodefault
	local-zone: "2.0.192.in-addr.arpa." nodefault
	local-zone: "100.51.198.in-addr.arpa." nodefault
	local-zone: "113.0.203.in-addr.arpa." nodefault
	local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
EOF
		for l in "$@"; do printf '\t%s\n' "$l"; done
		cat <<EOF
remote-control:
	control-enable: yes
	control-interface: "$dir/unbound.ctl"
	control-use-cert: no
EOF
	} >"$dir/unbound.conf"
	unbound-checkconf "$dir/unbound.conf" >/dev/null ||
		fail "unbound-checkconf rejected $dir/unbound.conf"
}
unbound_conf "$tmp/unbound" "$UNBOUND_ADDR" "$hier/root.hints" iterator
inns unbound -d -c "$tmp/unbound/unbound.conf" >"$tmp/unbound/unbound.log" 2>&1 &
pids+=($!)
unbound_pid=$!

aw_flags=(--listen "$ADDRWALK_ADDR:53" --root-hints "$hier/root.hints" --allow-loopback)
((QMIN)) || aw_flags+=(--no-qmin)
inns "$tmp/addrwalk" serve "${aw_flags[@]}" >"$tmp/addrwalk.log" 2>&1 &
pids+=($!)
addrwalk_pid=$!
resolvers=("$UNBOUND_ADDR" "$ADDRWALK_ADDR")
resolver_logs=("$tmp/unbound/unbound.log" "$tmp/addrwalk.log")

# The validating pair: the same configuration, the signed hierarchy's root
# hints, and its root DS as the only trust anchor.
if ((DNSSEC)); then
	sec=$hier/dnssec
	unbound_conf "$tmp/unbound-sec" "$UNBOUND_SEC_ADDR" "$sec/root.hints" "validator iterator" \
		"trust-anchor-file: \"$sec/root.ds\"" "val-log-level: 2" "ede: yes"
	inns unbound -d -c "$tmp/unbound-sec/unbound.conf" >"$tmp/unbound-sec/unbound.log" 2>&1 &
	pids+=($!)
	unbound_sec_pid=$!
	cat >"$tmp/addrwalk-sec.toml" <<EOF
[dnssec]
validation = "auto"
trust-anchor-file = "$sec/root.ds"
EOF
	aw_sec_flags=(--config "$tmp/addrwalk-sec.toml" --listen "$ADDRWALK_SEC_ADDR:53" --root-hints "$sec/root.hints" --allow-loopback)
	((QMIN)) || aw_sec_flags+=(--no-qmin)
	inns "$tmp/addrwalk" serve "${aw_sec_flags[@]}" >"$tmp/addrwalk-sec.log" 2>&1 &
	pids+=($!)
	addrwalk_sec_pid=$!
	resolvers+=("$UNBOUND_SEC_ADDR" "$ADDRWALK_SEC_ADDR")
	resolver_logs+=("$tmp/unbound-sec/unbound.log" "$tmp/addrwalk-sec.log")
fi

inns timeout --foreground $((START_TIMEOUT + 5)) "$tmp/compare" wait -timeout "${START_TIMEOUT}s" "${resolvers[@]}" ||
	fail "the resolvers did not start" "${resolver_logs[@]}"
echo "interop: unbound $(unbound -V | sed -n 's/^Version //p') on $UNBOUND_ADDR, addrwalk on $ADDRWALK_ADDR"
if ((DNSSEC)); then
	echo "interop-dnssec: validating unbound on $UNBOUND_SEC_ADDR, addrwalk on $ADDRWALK_SEC_ADDR"
fi

# nsd_queries: the queries all NSD instances received so far.
nsd_queries() {
	local total=0 n
	for c in "${nsd_confs[@]}"; do
		n=$(inns timeout --foreground 5 nsd-control -c "$c" stats_noreset 2>/dev/null | sed -n 's/^num\.queries=//p')
		total=$((total + ${n:-0}))
	done
	echo "$total"
}

# pass NAME ADDR PID LOG [QUESTIONS [FLAG...]]: ask every question of the
# resolver NAME, then make sure it is still running (a crash would show as
# a flood of errors).
pass() {
	inns timeout --foreground "$PASS_TIMEOUT" "$tmp/compare" query -server "$2" \
		-questions "${5:-$hier/questions.txt}" -out "$tmp/$1.json" "${@:6}" ||
		fail "asking $1 failed" "$4"
	kill -0 "$3" 2>/dev/null || fail "$1 exited while answering the questions" "$4"
}
q0=$(nsd_queries)
pass unbound "$UNBOUND_ADDR" "$unbound_pid" "$tmp/unbound/unbound.log"
q1=$(nsd_queries)
pass addrwalk "$ADDRWALK_ADDR" "$addrwalk_pid" "$tmp/addrwalk.log"
q2=$(nsd_queries)
if ((q0 + q1 + q2 > 0)); then
	echo "interop: upstream queries received by NSD: unbound $((q1 - q0)), addrwalk $((q2 - q1)) (lame, dead and silent servers not counted)"
fi

rc=0
"$tmp/compare" diff -known interop/known-differences.txt \
	unbound="$tmp/unbound.json" addrwalk="$tmp/addrwalk.json" || rc=$?

if ((DNSSEC)); then
	q0=$(nsd_queries)
	pass unbound-sec "$UNBOUND_SEC_ADDR" "$unbound_sec_pid" "$tmp/unbound-sec/unbound.log" "$sec/questions.txt" -dnssec
	q1=$(nsd_queries)
	pass addrwalk-sec "$ADDRWALK_SEC_ADDR" "$addrwalk_sec_pid" "$tmp/addrwalk-sec.log" "$sec/questions.txt" -dnssec
	q2=$(nsd_queries)
	echo "interop-dnssec: upstream queries received by NSD: unbound $((q1 - q0)), addrwalk $((q2 - q1))"
	"$tmp/compare" diff -known interop/known-differences.txt -label interop-dnssec -ede -min-data 0.3 \
		unbound="$tmp/unbound-sec.json" addrwalk="$tmp/addrwalk-sec.json" || rc=$?
fi
exit "$rc"
