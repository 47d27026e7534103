#!/usr/bin/env python3
"""bench-recall.py - how much of the planted material each tool found.

Usage: scripts/bench-recall.py [MANIFEST] [TRUSTMAP_JSON] [KINGFISHER_JSON]
Defaults: bench-manifest.json, /tmp/trustmap-bench.json, /tmp/kf.json (what scripts/bench.sh
writes). A planted item counts as found by a tool when the tool reports anything at its path
(trustmap: an asset occurrence; Kingfisher: a finding). Prints a Markdown table by kind.
"""
import json
import sys
from collections import Counter, defaultdict

manifest_path = sys.argv[1] if len(sys.argv) > 1 else "bench-manifest.json"
tm_path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/trustmap-bench.json"
kf_path = sys.argv[3] if len(sys.argv) > 3 else "/tmp/kf.json"

manifest = json.load(open(manifest_path))
root = manifest.get("summary", {}).get("root", "")

tm = json.load(open(tm_path))
tm_paths = {o["path"] for a in tm["assets"] for o in a["occurrences"]}

# Kingfisher writes one JSON object followed by a summary object.
text = open(kf_path).read()
kf, _ = json.JSONDecoder().raw_decode(text)
kf_paths = set()
for f in kf["findings"]:
    p = f["finding"]["path"]
    # Paths inside archives look like "archive.zip | inner/file"; keep the file part.
    p = p.split(" | ")[0]
    kf_paths.add(p)


def rel(p):
    marker = "/bench-tree/"
    return p.split(marker, 1)[1] if marker in p else p


kf_paths = {rel(p) for p in kf_paths}

total = Counter()
found = defaultdict(Counter)
for item in manifest["items"]:
    kind = item["kind"]
    total[kind] += 1
    if item["path"] in tm_paths:
        found["trustmap"][kind] += 1
    if item["path"] in kf_paths:
        found["kingfisher"][kind] += 1

print("| planted kind | planted places | trustmap found | Kingfisher found |")
print("| --- | ---: | ---: | ---: |")
for kind in sorted(total):
    print(f"| {kind} | {total[kind]} | {found['trustmap'][kind]} | {found['kingfisher'][kind]} |")
n = sum(total.values())
t = sum(found["trustmap"].values())
k = sum(found["kingfisher"].values())
print(f"| **all** | {n} | {t} ({100 * t / n:.0f}%) | {k} ({100 * k / n:.0f}%) |")
