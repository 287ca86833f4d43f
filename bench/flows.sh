#!/usr/bin/env bash
# flows.sh — ../shared/bench/flows/flows.sh with bench/flows (virtual
# users by default) in the place of its bench-ours: the same server, the
# same peers, the same figures. Arguments go to flows.sh; FLOWS_EXEC=slots
# measures ApacheBench's slots instead.
#
#   bench/flows.sh -t "ours gobase" -r 3 -c 32
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${FLOWS_DIR:-$root/../shared/bench/flows}
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cp -r "$shared" "$w/flows"
cp "$root/bench/flows/main.go" "$w/flows/bench-ours/main.go"
if [ "${FLOWS_EXEC:-vus}" != vus ]; then
  sed -i "s/exec := flag.String(\"exec\", \"vus\"/exec := flag.String(\"exec\", \"${FLOWS_EXEC}\"/" "$w/flows/bench-ours/main.go"
fi
cd "$root"
OURS_ROOT=$root "$w/flows/flows.sh" "$@"
