#!/usr/bin/env python3
"""Where a scan's CPU goes, by trustmap's own functions (BENCHMARKS.md, issue 13, session 15).

    perf record -o /tmp/p.data --call-graph dwarf,32768 -F 1000 \\
        target/release/trustmap scan TREE --no-store -q -f json -o /tmp/x.json
    perf script -i /tmp/p.data -F ip,sym > /tmp/p.txt
    scripts/perf-frames.py /tmp/p.txt [N]

Prints the N (default 40) trustmap functions with the largest share of samples counted
inclusively (a sample counts once for each function on its stack), then the share of each
sample's first trustmap frame (where the time is spent, library code included).
"""
import collections
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    stacks = open(sys.argv[1]).read().split("\n\n")
    total = 0
    inclusive, first = collections.Counter(), collections.Counter()
    for st in stacks:
        frames = [
            (line.strip().split(" ", 1) + [""])[1].replace(" (inlined)", "")
            for line in st.strip().split("\n")
            if line.strip()
        ]
        if not frames:
            continue
        total += 1
        own = [f for f in frames if "trustmap" in f]
        for f in set(own):
            inclusive[f[:120]] += 1
        if own:
            first[own[0][:120]] += 1
    print(f"{total} samples")
    print("--- inclusive")
    for name, n in inclusive.most_common(top):
        print(f"{100 * n / total:5.1f}% {name}")
    print("--- first trustmap frame")
    for name, n in first.most_common(top):
        print(f"{100 * n / total:5.1f}% {name}")


if __name__ == "__main__":
    main()
