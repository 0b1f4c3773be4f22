#!/usr/bin/env bash
# Dead code and unused parameters: deadcode -test (functions no program or
# test reaches) and unparam (parameters that are unused or always get the
# same value). Findings fail the run, except those listed in
# .ci/unused-allow.txt (code another change is about to use; each line is
# a finding without its line:column, so edits elsewhere in the file do not
# break the match). Stale allow lines are reported, not fatal.
set -euo pipefail
cd "$(dirname "$0")/.."
allow=.ci/unused-allow.txt
found=$( { deadcode -test ./... || true; unparam ./... || true; } 2>&1 | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort -u)
new=$(grep -vxF -f <(grep -v '^#' "$allow" | sed '/^$/d') <<<"$found" || true)
stale=$(grep -v '^#' "$allow" | sed '/^$/d' | grep -vxF -f <(printf '%s\n' "$found") || true)
if [ -n "$stale" ]; then
  echo "allowed findings no longer reported (delete them from $allow):"
  echo "$stale"
fi
if [ -n "$new" ]; then
  echo "dead code or unused parameters (remove them, or use them):"
  echo "$new"
  exit 1
fi
echo "no dead code, no unused parameters"
