#!/usr/bin/env bash
# bench.sh - reproducible throughput/memory benchmark: trustmap vs Kingfisher vs the I/O floor.
#
# Usage:
#   scripts/bench.sh [TREE]            # TREE defaults to <repo>/bench-tree
#
# What it does, in order:
#   1. installs what is missing: GNU time (apt), python `cryptography` (pip, for the generator),
#      Kingfisher ($KINGFISHER_PKG, default kingfisher-bin==2.14.0, via pip);
#   2. builds trustmap (`cargo build --release -p trustmap`); if the build fails or the binary
#      is missing, trustmap is reported as missing and the other tools still run;
#   3. generates TREE with scripts/gen-bench-tree.py if TREE or its manifest
#      (TREE/../bench-manifest.json) is missing;
#   4. warms the page cache (one untimed cat-floor pass) and Kingfisher's rule cache (one
#      untimed scan of a tiny directory), so every timed run is a warm-cache run;
#   5. runs each tool $RUNS times under `/usr/bin/time -f '%e %M'` and reports the median wall
#      time and the largest peak RSS over the runs, throughput, and the ratios;
#   6. prints a Markdown report (machine, date, tree, commands, table) and writes it to
#      $OUT/results.md, with raw per-run numbers in $OUT/runs.tsv.
#
# The tools and their exact commands:
#   cat floor   find TREE -type f -print0 | xargs -0 cat > /dev/null
#   trustmap    target/release/trustmap scan TREE --format json --no-store --output /tmp/trustmap-bench.json
#   kingfisher  kingfisher scan TREE --no-validate --no-update-check -f json > /tmp/kf.json
#
# Environment knobs (all optional):
#   RUNS=3              timed runs per tool (median is reported)
#   TOOLS="cat trustmap kingfisher"   which tools to run (cat is always run for the ratios)
#   OUT=/tmp/trustmap-bench           where logs and results go
#   SIZE_GB=1.0 FILES=100000 SEED=42  tree parameters when the tree has to be generated
#   SKIP_BUILD=1        do not run cargo build (use whatever target/release/trustmap exists)
#   RUN_TIMEOUT=3600    seconds before a single run is killed
#   KINGFISHER_PKG=kingfisher-bin==2.14.0
#   TRUSTMAP_BIN=<repo>/target/release/trustmap   the binary to time
#   BENCH_NICE=-10      niceness of the timed runs (negative needs root; it only favours the
#                       benchmark over other work on a shared machine; set 0 to disable)
#   QUIET_LOAD=0.3 QUIET_WAIT=600   before the timed runs, wait up to QUIET_WAIT seconds for the
#                       1-minute load average to drop below QUIET_LOAD (the machine may be shared;
#                       the load before/after is printed in the report either way)
#
# Exit status: 0 when every selected tool ran (a missing trustmap is not an error), 1 otherwise.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TREE=$(realpath -m "${1:-$ROOT/bench-tree}")
MANIFEST=$(realpath -m "$TREE/../bench-manifest.json")
RUNS=${RUNS:-3}
TOOLS=${TOOLS:-"cat trustmap kingfisher"}
OUT=${OUT:-/tmp/trustmap-bench}
SIZE_GB=${SIZE_GB:-1.0}
FILES=${FILES:-100000}
SEED=${SEED:-42}
RUN_TIMEOUT=${RUN_TIMEOUT:-3600}
KINGFISHER_PKG=${KINGFISHER_PKG:-kingfisher-bin==2.14.0}
TM_BIN=${TRUSTMAP_BIN:-$ROOT/target/release/trustmap}
BENCH_NICE=${BENCH_NICE:--10}
[ "$(id -u)" = 0 ] || BENCH_NICE=0
QUIET_LOAD=${QUIET_LOAD:-0.3}
QUIET_WAIT=${QUIET_WAIT:-600}
TM_OUT=/tmp/trustmap-bench.json
KF_OUT=/tmp/kf.json
PY=${PYTHON:-python3}

mkdir -p "$OUT"
log() { printf '[bench] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- 1. prerequisites
if [ ! -x /usr/bin/time ]; then
  log "installing GNU time"
  { apt-get update -qq && apt-get install -y -qq time; } >"$OUT/apt.log" 2>&1 || { log "cannot install GNU time"; exit 1; }
fi
if ! "$PY" -c 'import cryptography' 2>/dev/null; then
  log "installing python cryptography (needed by the tree generator)"
  "$PY" -m pip install -q cryptography >"$OUT/pip-cryptography.log" 2>&1 || log "pip install cryptography failed"
fi
if [[ " $TOOLS " == *" kingfisher "* ]] && ! command -v kingfisher >/dev/null 2>&1; then
  log "installing $KINGFISHER_PKG"
  "$PY" -m pip install -q "$KINGFISHER_PKG" >"$OUT/pip-kingfisher.log" 2>&1 || log "pip install $KINGFISHER_PKG failed"
  hash -r
fi

# ---------------------------------------------------------------- 2. build trustmap
TM_STATUS=ok
if [[ " $TOOLS " == *" trustmap "* ]]; then
  if [ -z "${SKIP_BUILD:-}" ]; then
    log "building trustmap (cargo build --release -p trustmap), log in $OUT/build.log"
    if ! (cd "$ROOT" && cargo build --release -p trustmap) >"$OUT/build.log" 2>&1; then
      log "trustmap build FAILED (see $OUT/build.log)"
      TM_STATUS="build failed"
    fi
  fi
  if [ ! -x "$TM_BIN" ]; then
    TM_STATUS="missing"
  fi
  [ "$TM_STATUS" = ok ] || log "trustmap: $TM_STATUS - it will be reported as not measured"
fi

# ---------------------------------------------------------------- 3. the tree
if [ ! -d "$TREE" ] || [ ! -f "$MANIFEST" ]; then
  log "generating $TREE ($SIZE_GB GiB, $FILES files, seed $SEED)"
  start=$(date +%s)
  "$PY" "$ROOT/scripts/gen-bench-tree.py" "$TREE" --size-gb "$SIZE_GB" --files "$FILES" --seed "$SEED" \
    --manifest "$MANIFEST" --force >"$OUT/gen.log" 2>&1 || { log "generator failed, see $OUT/gen.log"; exit 1; }
  log "generated in $(( $(date +%s) - start ))s"
fi
read -r TREE_FILES TREE_BYTES < <(find "$TREE" -type f -printf '%s\n' | awk '{n++; s+=$1} END {print n+0, s+0}')
TREE_DIRS=$(find "$TREE" -type d | wc -l)
PLANTED=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["planted_items"])' "$MANIFEST" 2>/dev/null || echo "?")
log "tree: $TREE_FILES files, $TREE_BYTES bytes, $TREE_DIRS dirs, $PLANTED planted items"

# ---------------------------------------------------------------- 4. the commands
# Each tool is a bash snippet run under /usr/bin/time; $T is the tree.
declare -A CMD OKRC
CMD[cat]='find "$T" -type f -print0 | xargs -0 cat > /dev/null'
OKRC[cat]="0"
CMD[trustmap]='"$TM_BIN" scan "$T" --format json --no-store --output '"$TM_OUT"
OKRC[trustmap]="0 1"          # 1 = findings at or above --fail-on, not an error
CMD[kingfisher]='kingfisher scan "$T" --no-validate --no-update-check -f json > '"$KF_OUT"
OKRC[kingfisher]="0 200"      # Kingfisher exits 200 when it reports findings
export T="$TREE" TM_BIN

log "warming the page cache (untimed cat pass)"
bash -c "${CMD[cat]}"
if [[ " $TOOLS " == *" kingfisher "* ]] && command -v kingfisher >/dev/null; then
  log "warming Kingfisher's compiled rule cache (untimed scan of a tiny dir)"
  tiny=$(mktemp -d); echo "x = 1" >"$tiny/a.py"
  kingfisher scan "$tiny" --no-validate --no-update-check -f json >/dev/null 2>&1
  rm -rf "$tiny"
fi

# ---------------------------------------------------------------- 5. timed runs
waited=0
while awk -v q="$QUIET_LOAD" '{exit !($1 >= q)}' /proc/loadavg && [ "$waited" -lt "$QUIET_WAIT" ]; do
  [ $((waited % 60)) -eq 0 ] && log "load average $(cut -d' ' -f1 /proc/loadavg) >= $QUIET_LOAD, waiting for a quiet machine (max ${QUIET_WAIT}s)"
  sleep 10; waited=$((waited + 10))
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
printf 'tool\trun\twall_s\tpeak_rss_kb\tuser_s\tsys_s\texit\n' >"$OUT/runs.tsv"
declare -A WALL RSS CPU STATUS FINDINGS
for tool in cat $TOOLS; do
  [ "$tool" = cat ] && [ -n "${WALL[cat]:-}" ] && continue
  if [ "$tool" = trustmap ] && [ "$TM_STATUS" != ok ]; then STATUS[$tool]=$TM_STATUS; continue; fi
  if [ "$tool" = kingfisher ] && ! command -v kingfisher >/dev/null; then STATUS[$tool]="missing"; continue; fi
  walls=(); cpus=(); rss_max=0; STATUS[$tool]=ok
  for i in $(seq 1 "$RUNS"); do
    tf="$OUT/$tool.$i.time"
    nice -n "$BENCH_NICE" /usr/bin/time -f '%e %M %U %S' -o "$tf" timeout "$RUN_TIMEOUT" bash -c "${CMD[$tool]}" 2>"$OUT/$tool.$i.stderr"
    rc=$?
    # GNU time prefixes "Command exited with non-zero status N" on failure: keep the last line.
    read -r w m u s < <(tail -n 1 "$tf")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$i" "$w" "$m" "$u" "$s" "$rc" >>"$OUT/runs.tsv"
    log "$tool run $i: ${w}s wall, $(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')s CPU, peak RSS $((m / 1024)) MiB, exit $rc"
    if [[ " ${OKRC[$tool]} " != *" $rc "* ]]; then
      STATUS[$tool]="failed (exit $rc, see $OUT/$tool.$i.stderr)"
      break
    fi
    walls+=("$w"); cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')"); [ "$m" -gt "$rss_max" ] && rss_max=$m
  done
  [ "${STATUS[$tool]}" = ok ] || continue
  WALL[$tool]=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  CPU[$tool]=$(printf '%s\n' "${cpus[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  RSS[$tool]=$rss_max
done

# Findings, where cheap: Kingfisher's second JSON line is a summary; trustmap has top-level arrays.
FINDINGS[cat]="-"
FINDINGS[kingfisher]=$("$PY" - "$KF_OUT" <<'EOF' 2>/dev/null || echo "?"
import json, sys, collections
lines = open(sys.argv[1]).read().splitlines()
d = json.loads(lines[0])
by = collections.Counter(f["rule"]["id"].split(".")[-1] for f in d.get("findings", []))
print("%d (%s)" % (len(d.get("findings", [])), ", ".join("%s %d" % kv for kv in by.most_common(6))))
EOF
)
FINDINGS[trustmap]=$("$PY" - "$TM_OUT" <<'EOF' 2>/dev/null || echo "?"
import json, sys
d = json.load(open(sys.argv[1]))
print("%d findings, %d assets, %d errors" % (len(d.get("findings", [])), len(d.get("assets", [])), len(d.get("errors", []))))
EOF
)

# ---------------------------------------------------------------- 6. report
kf_version=$(kingfisher --version 2>/dev/null | head -1 || echo "not installed")
tm_version=$([ -x "$TM_BIN" ] && "$TM_BIN" --version 2>/dev/null | head -1 || echo "not built")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
  echo "## Run of $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "- machine: $(nproc) cores, ${cpu:-unknown CPU}, $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "- tree: \`$TREE\`: $TREE_FILES files, $TREE_BYTES bytes ($(awk -v b="$TREE_BYTES" 'BEGIN {printf "%.2f GiB", b/1073741824}')), $TREE_DIRS directories, $PLANTED planted items"
  echo "- tools: $tm_version (git $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')); $kf_version; GNU time $(dpkg-query -W -f='${Version}' time 2>/dev/null || echo '?')"
  echo "- load average before / after the timed runs: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- method: warm page cache; timed runs at nice $BENCH_NICE; $RUNS runs per tool; wall and CPU (user+sys) = median, peak RSS = largest over the runs"
  echo
  echo "| tool | wall s (median) | CPU s | MiB/s | peak RSS MiB | throughput vs Kingfisher | time vs cat floor | findings |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  for tool in cat trustmap kingfisher; do
    [ "$tool" = cat ] || [[ " $TOOLS " == *" $tool "* ]] || continue
    name=$tool; [ "$tool" = cat ] && name="cat floor (find+xargs cat)"
    if [ "${STATUS[$tool]:-}" != ok ]; then
      echo "| $name | ${STATUS[$tool]:-not run} | | | | | | |"
      continue
    fi
    awk -v name="$name" -v w="${WALL[$tool]}" -v m="${RSS[$tool]}" -v c="${CPU[$tool]}" -v b="$TREE_BYTES" \
        -v kf="${WALL[kingfisher]:-}" -v cat="${WALL[cat]:-}" -v f="${FINDINGS[$tool]:-?}" 'BEGIN {
      tput = b / 1048576 / w
      vk = (kf != "" && w > 0) ? sprintf("%.2fx", kf / w) : "n/a"
      vc = (cat != "" && cat > 0) ? sprintf("%.2fx", w / cat) : "n/a"
      printf "| %s | %.2f | %.2f | %.0f | %.0f | %s | %s | %s |\n", name, w, c, tput, m / 1024, vk, vc, f }'
  done
  echo
  echo "Commands (T=$TREE):"
  echo
  for tool in cat trustmap kingfisher; do echo "    ${CMD[$tool]}"; done | sed "s|\"\$T\"|\$T|g; s|\"\$TM_BIN\"|target/release/trustmap|"
  echo
  echo "Raw runs: $OUT/runs.tsv"
} | tee "$OUT/results.md"

rc=0
for tool in cat $TOOLS; do
  case "${STATUS[$tool]:-}" in ok|missing|"build failed") ;; *) rc=1 ;; esac
done
exit $rc
