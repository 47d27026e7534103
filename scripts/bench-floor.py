#!/usr/bin/env python3
"""Paired runs against the read floor (BENCHMARKS.md, "Scan phases on real repositories").

    scripts/bench-floor.py ROUNDS TREE LABEL=COMMAND [LABEL=COMMAND ...]

Each round runs the read floor (`find TREE -type f -print0 | xargs -0 -P2 -n 2000 cat`)
and then one of the commands, in turn, so every command is timed right after a floor run
(the position matters: the first run after `cat` pays more system time) and the machine's
drift from minute to minute hits both sides of each pair alike. Prints, per command, the
median wall time, the median of its floor runs, the median (min, max) of the per-pair
ratios, and every pair.

Example (the session 15 series):
    scripts/bench-floor.py 10 /work/real-tree \\
        "old=/tmp/trustmap-old scan /work/real-tree --no-store -q -f json -o /tmp/x.json" \\
        "new=target/release/trustmap scan /work/real-tree --no-store -q -f json -o /tmp/y.json"
"""
import resource
import statistics
import subprocess
import sys
import time


def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(cmd, shell=True, check=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    rounds, tree = int(sys.argv[1]), sys.argv[2]
    cmds = [a.split("=", 1) for a in sys.argv[3:]]
    floor = f"find {tree} -type f -print0 | xargs -0 -P2 -n 2000 cat > /dev/null"
    runs = {label: [] for label, _ in cmds}
    for _ in range(rounds):
        for label, cmd in cmds:
            f, _, _ = run(floor)
            t, user, sys_ = run(cmd)
            runs[label].append((t, f, user, sys_))
    for label, _ in cmds:
        r = runs[label]
        ratios = [t / f for t, f, _, _ in r]
        print(
            f"{label}: median {statistics.median(t for t, *_ in r):.2f} s, "
            f"floor {statistics.median(f for _, f, *_ in r):.2f} s, "
            f"ratio {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}), "
            f"user {statistics.median(u for *_, u, _ in r):.2f} s, "
            f"sys {statistics.median(s for *_, s in r):.2f} s"
        )
        print("  pairs: " + " ".join(f"{t:.2f}/{f:.2f}" for t, f, _, _ in r))


if __name__ == "__main__":
    main()
