#!/usr/bin/env python3
"""The real-repository benchmark tree (issue 13): the sources and test data of istio, spire,
cert-manager, cfssl and zlint at pinned commits, copied COPIES times (default 8), each copy
after the first salted (one line appended to every file) so no tool can skip a copy by
content hash.

    scripts/gen-real-tree.py DIR [--copies 8] [--mirrors /work/.mirror]

Each repository is read from MIRRORS/<owner>+<name>/repo (a bare git directory); blobs a
mirror does not hold (its largest files may be absent) are left out and counted. Without
--mirrors, each repository is fetched from GitHub at its commit (shallow) into a temporary
directory first.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

REPOS = [
    ("istio/istio", "86c9f01fd735fb01d8192f5bcaf0d424afb7f14c"),
    ("spiffe/spire", "ef8527ec91013c6c1b4741e0f6ac0786576e620e"),
    ("cert-manager/cert-manager", "2d0d7f7f74241a9cbf79f0e2a7bb247238ee09fd"),
    ("cloudflare/cfssl", "ed8df49712657524e8647cb7a9576422baa2faa1"),
    ("zmap/zlint", "1007b1d55fa0de8d6639088d6a7a6493b09b858c"),
]


def export(git_dir, commit, out):
    """Writes the commit's files that the git directory holds; returns (written, missing)."""
    entries = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", commit],
        check=True, capture_output=True).stdout.split(b"\0")
    files = []
    for e in entries:
        if not e:
            continue
        meta, path = e.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":
            files.append((sha, path))
    cat = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    written = missing = 0
    for sha, path in files:
        cat.stdin.write(sha + b"\n")
        cat.stdin.flush()
        header = cat.stdout.readline()
        if header.endswith(b"missing\n"):
            missing += 1
            continue
        size = int(header.split()[2])
        data = cat.stdout.read(size)
        cat.stdout.read(1)
        target = os.path.join(out, os.fsdecode(path))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
        written += 1
    cat.stdin.close()
    cat.wait()
    return written, missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--mirrors")
    a = ap.parse_args()
    first = os.path.join(a.dir, "copy-1")
    for repo, commit in REPOS:
        name = repo.split("/")[1]
        out = os.path.join(first, name)
        if os.path.isdir(out):
            continue
        if a.mirrors:
            git_dir = os.path.join(a.mirrors, repo.replace("/", "+"), "repo")
        else:
            tmp = tempfile.mkdtemp()
            git_dir = os.path.join(tmp, ".git")
            subprocess.run(["git", "init", "-q", tmp], check=True)
            subprocess.run(["git", "-C", tmp, "fetch", "-q", "--depth", "1",
                            f"https://github.com/{repo}", commit], check=True)
        written, missing = export(git_dir, commit, out)
        print(f"{repo}@{commit[:12]}: {written} files ({missing} not in the mirror)", file=sys.stderr)
    for n in range(2, a.copies + 1):
        dst = os.path.join(a.dir, f"copy-{n}")
        if os.path.isdir(dst):
            continue
        shutil.copytree(first, dst, symlinks=True)
        salt = f"\n# salt {n}\n".encode()
        for root, _, names in os.walk(dst):
            for fn in names:
                with open(os.path.join(root, fn), "ab") as f:
                    f.write(salt)
    total = size = 0
    for root, _, names in os.walk(a.dir):
        for fn in names:
            total += 1
            size += os.path.getsize(os.path.join(root, fn))
    print(f"{total} files, {size} bytes in {a.dir}")


if __name__ == "__main__":
    main()
