#!/usr/bin/env bash
# CI's time bound on hostile input (issue 14): every shape scripts/gen-hostile.py writes, at
# a tenth of the issue's sizes, scanned by the binary the tests built, each under a
# deadline. A shape that stalls (timeout), crashes (a signal, exit 101) or is silent about
# what it cut fails the job. The regression tests assert the bounds' counts; this checks
# that the whole binary stays fast on each shape. Usage: scripts/hostile-ci.sh [BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/trustmap}
deadline=${HOSTILE_DEADLINE:-60}
python3 -c 'import cryptography' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check cryptography
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 scripts/gen-hostile.py "$dir" --scale "${HOSTILE_SCALE:-0.1}" >/dev/null
failed=0
for shape in "$dir"/*/; do
  name=$(basename "$shape")
  start=$(date +%s%N)
  set +e
  timeout "$deadline" "$bin" scan "$shape" --no-store -q -f json -o "$dir/$name.json"
  code=$?
  set -e
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  errors=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['errors']))" "$dir/$name.json" 2>/dev/null || echo "?")
  printf '%-22s exit %-3s %7d ms  %s errors\n' "$name" "$code" "$ms" "$errors"
  if [ "$code" -gt 1 ]; then
    echo "hostile-ci: $name: exit $code (124 = over the ${deadline} s deadline)" >&2
    failed=1
  fi
done
# A FIFO given as the root: an error, never a wait for a writer.
set +e
out=$(timeout 10 "$bin" scan "$dir/silent/fifo" --no-store -q -f json 2>&1)
code=$?
set -e
if [ "$code" = 124 ] || ! grep -q '"error": "not scanned' <<<"$out"; then
  echo "hostile-ci: a FIFO root: exit $code, no error entry" >&2
  failed=1
else
  echo "fifo root              exit $code  reported in errors"
fi
exit $failed
