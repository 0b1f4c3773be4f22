#!/usr/bin/env bash
# bench/arpscan.sh: compare `addrwalk arp scan` with arp-scan on a lab LAN.
#
# Builds, entirely inside network namespaces (nothing in the root namespace):
#   aw-bench-<rand>-br   a bridge br0
#   aw-bench-<rand>-h0   the scanner, 192.0.2.1/24
#   aw-bench-<rand>-hN   N hosts (default 50), 192.0.2.2 ...
# then scans 192.0.2.0/24 from h0 with both tools at the same packet rate
# and the same number of tries, prints wall time and hosts found, and
# deletes every namespace on exit (also on failure or Ctrl-C).
#
# Needs root, iproute2, Go, and Debian's arp-scan package.
# Usage: sudo bench/arpscan.sh [HOSTS] [RATE_PPS] [TRIES]
# ADDRWALK=/path/to/addrwalk uses that binary instead of building one.
set -euo pipefail

HOSTS=${1:-50}
RATE=${2:-500}
TRIES=${3:-2}
PFX="aw-bench-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
NET=192.0.2

if [ "$(id -u)" != 0 ]; then echo "arpscan.sh: needs root (network namespaces)" >&2; exit 2; fi
command -v arp-scan >/dev/null || { echo "arpscan.sh: install Debian package arp-scan" >&2; exit 2; }
[ "$HOSTS" -ge 1 ] && [ "$HOSTS" -le 250 ] || { echo "arpscan.sh: HOSTS must be 1..250" >&2; exit 2; }

cleanup() {
	for ns in $(ip netns list | awk '{print $1}' | grep "^$PFX-" || true); do
		ip netns del "$ns" || true
	done
	rm -rf "$TMP"
}
TMP=$(mktemp -d)
trap cleanup EXIT INT TERM

if [ -n "${ADDRWALK:-}" ]; then
	cp "$ADDRWALK" "$TMP/addrwalk"
else
	(cd "$(dirname "$0")/.." && go build -o "$TMP/addrwalk" ./cmd/addrwalk)
fi

echo "building lab: bridge + scanner + $HOSTS hosts ($PFX-*)"
ip netns add "$PFX-br"
ip -n "$PFX-br" -batch - <<EOT
link set lo up
link add br0 type bridge
link set br0 type bridge stp_state 0 forward_delay 0
link set br0 up
EOT
for i in $(seq 0 "$HOSTS"); do
	ns="$PFX-h$i"
	ip netns add "$ns"
	ip -n "$ns" link add eth0 type veth peer name p$i netns "$PFX-br"
	ip -n "$PFX-br" link set p$i master br0
	ip -n "$PFX-br" link set p$i up
	ip -n "$ns" -batch - <<EOT
link set lo up
addr add $NET.$((i + 1))/24 dev eth0
link set eth0 up
EOT
done

S="$PFX-h0"
interval_us=$(awk -v r="$RATE" 'BEGIN { printf "%d", 1000000 / r }')
echo "scanning $NET.0/24 from $NET.1 at $RATE packets/s, $TRIES tries per host"

t0=$(date +%s.%N)
ip netns exec "$S" "$TMP/addrwalk" arp scan -I eth0 --interval="${interval_us}u" --retry="$TRIES" -q -x "$NET.0/24" >"$TMP/aw.out"
t1=$(date +%s.%N)
ip netns exec "$S" arp-scan -I eth0 --interval="${interval_us}u" --retry="$TRIES" -q -x "$NET.0/24" >"$TMP/as.out"
t2=$(date +%s.%N)

aw_found=$(grep -c "^$NET\." "$TMP/aw.out" || true)
as_found=$(grep -c "^$NET\." "$TMP/as.out" || true)
printf '%-22s %10s %12s\n' tool "wall (s)" "hosts found"
printf '%-22s %10.3f %12d\n' "addrwalk arp scan" "$(echo "$t1 - $t0" | bc)" "$aw_found"
printf '%-22s %10.3f %12d\n' "arp-scan" "$(echo "$t2 - $t1" | bc)" "$as_found"
echo "expected: $HOSTS hosts"

