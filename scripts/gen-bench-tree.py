#!/usr/bin/env python3
"""gen-bench-tree.py - build the trustmap benchmark tree.

Purpose
    Generate a large (default 1 GB, 100,000 files), seeded, reproducible file
    tree that looks like a workstation's checkout directory: many projects in
    several languages (Rust, Python, JS/TS, Go, Java, infra/config, docs), with
    src/, tests/, docs/, config/, vendored dependency dirs (node_modules/,
    vendor/, third_party/), lock files, minified bundles, logs, CSV data and
    binaries (PNG/JPEG/GIF/WOFF2/ELF/ZIP/JAR with correct magic numbers).
    Sizes follow a real-tree shape: most files are 1-20 KB, with a long tail
    of lock files, bundles, logs and binaries up to several MB.

    Sparse "planted" material (a few hundred items) is mixed in: PEM
    certificates, chains and private keys (standalone and embedded in YAML,
    JSON, source code, Markdown, base64 in Kubernetes secrets, ZIP archives),
    DER certificates and keys, PKCS#12 files, JKS keystores (made by keytool,
    if present), OpenSSH keys, and fake provider tokens with the right shape
    (ghp_, AKIA, xoxb-, sk_live_, glpat-, AIza, npm_).  Everything planted is
    listed in a manifest written NEXT TO the tree (never inside it), by
    default DIR/../bench-manifest.json.

    No two files are identical: every file carries per-file random
    identifiers; the generator hashes every file it writes and checks it.

Determinism
    The same --seed/--size-gb/--files gives the same paths, sizes and bytes,
    with one exception: the few files whose format carries a random salt or
    check value produced by the crypto libraries (encrypted PKCS#12, JKS,
    encrypted PEM keys, OpenSSH keys - about 15 files) differ in those bytes
    from run to run.  They are flagged "deterministic": false in the manifest.
    Keys and certificates themselves are derived from the seed (RSA primes
    are found with a seeded Miller-Rabin search, EC/Ed25519 keys come from
    seeded scalars, signatures are deterministic).

Usage
    scripts/gen-bench-tree.py DIR [--size-gb 1.0] [--files 100000] [--seed 42]
                                  [--manifest PATH] [--jobs N] [--force]

    DIR must not exist or be empty (use --force to wipe it first).
    Needs: python3 >= 3.9 and the `cryptography` package (pip install
    cryptography); keytool (Debian: default-jre-headless) is optional and
    used only for the JKS files.
    Takes about a minute for the default size on 2 cores.
"""

import argparse
import base64
import hashlib
import io
import json
import math
import multiprocessing as mp
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from random import Random

try:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover - reported to the user
    sys.exit("gen-bench-tree.py needs the 'cryptography' package: pip install cryptography")

MB = 1024 * 1024

# --------------------------------------------------------------------------
# Vocabulary and content fragments.
# Placeholders replaced per fragment: @A@ @B@ @C@ (identifiers, snake_case),
# @T@ (TypeName), @N@ (number), @S@ (short phrase), @H@ (hex digest),
# @U@ (uuid), @V@ (version x.y.z).
# --------------------------------------------------------------------------

WORDS = (
    "account address agent alloc archive array audit auth backend balance batch bind block "
    "bucket buffer builder bundle cache channel chunk cipher client cluster codec commit config "
    "conn context cursor daemon data delta device digest dispatch domain driver entry event "
    "export factory fetch field filter flag frame gateway graph guard handler hash header heap "
    "index inode input item job journal kernel key label layer lease ledger limit link list "
    "loader lock logger lookup manifest mapper matrix meta metric mirror module monitor mutex "
    "node notify offset option order output owner packet page parser patch path payload peer "
    "pipeline policy pool port probe process profile proxy queue quota range reader record "
    "region registry render replica report request resolver resource result retry route rule "
    "runner sample schema scope segment sender session shard signal snapshot socket source "
    "span stage state status store stream subject symbol table target task tenant thread "
    "ticket timer token topic trace tracker transport tree trigger tuple unit update upload "
    "user value vector version view volume watcher worker writer zone"
).split()

PHRASES = [
    "retry the request after backoff", "cache is warm", "unexpected end of input",
    "connection reset by peer", "invalid configuration value", "upstream timed out",
    "permission denied", "resource not found", "rate limit exceeded", "checksum mismatch",
    "failed to parse header", "shutting down gracefully", "listening on port",
    "migrating schema", "flushing buffers", "lease expired", "leader elected",
]

F_RUST = [
    """use std::collections::HashMap;
use crate::@A@::{@T@, @B@};

/// @S@.
#[derive(Debug, Clone, PartialEq)]
pub struct @T@ {
    pub @A@: u64,
    pub @B@: Option<String>,
    @C@: Vec<u8>,
}
""",
    """impl @T@ {
    pub fn new(@A@: u64) -> Self {
        Self { @A@, @B@: None, @C@: Vec::with_capacity(@N@) }
    }

    /// Returns the @B@ if the @C@ is set.
    pub fn @B@(&self) -> Option<&str> {
        self.@B@.as_deref()
    }
}
""",
    """pub fn @A@_@B@(input: &[u8], @C@: &mut HashMap<String, usize>) -> Result<usize, Error> {
    let mut total = 0usize;
    for (i, chunk) in input.chunks(@N@).enumerate() {
        if chunk.is_empty() {
            return Err(Error::new(ErrorKind::InvalidData, "@S@"));
        }
        *@C@.entry(format!("@A@-{}", i)).or_insert(0) += chunk.len();
        total += chunk.len();
    }
    Ok(total)
}
""",
    """#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn @A@_roundtrip() {
        let v = @T@::new(@N@);
        assert_eq!(v.@A@, @N@);
        assert!(v.@B@().is_none(), "@S@");
    }
}
""",
    """match self.@A@.get(&key) {
    Some(@B@) if @B@.len() > @N@ => {
        tracing::debug!(key = %key, "@S@");
        self.@C@.push(@B@.clone());
    }
    Some(_) => {}
    None => return Err(@T@Error::Missing(key.to_string())),
}
""",
    """// @S@
const @A@_LIMIT: usize = @N@;
static @B@_NAME: &str = "@B@-@C@";
pub(crate) type @T@Map = std::collections::BTreeMap<u32, @T@>;
""",
]

F_PY = [
    '''import logging
import os
from dataclasses import dataclass, field
from typing import Optional

log = logging.getLogger(__name__)


@dataclass
class @T@:
    """@S@."""

    @A@: int = @N@
    @B@: Optional[str] = None
    @C@: list = field(default_factory=list)
''',
    '''def @A@_@B@(@C@, limit=@N@):
    """Return the @B@ entries of @C@ (@S@)."""
    out = []
    for i, item in enumerate(@C@):
        if i >= limit:
            break
        if item.get("@A@") is None:
            log.warning("@S@: %s", item)
            continue
        out.append(item["@A@"])
    return out
''',
    '''class @T@Client:
    def __init__(self, base_url="http://localhost:@N@", timeout=30):
        self.base_url = base_url
        self.timeout = timeout
        self._@A@ = {}

    def @B@(self, key):
        if key in self._@A@:
            return self._@A@[key]
        value = self._fetch("/@C@/" + key)
        self._@A@[key] = value
        return value
''',
    '''def test_@A@_@B@(tmp_path):
    p = tmp_path / "@C@.json"
    p.write_text('{"@A@": @N@}')
    result = load_@A@(p)
    assert result["@A@"] == @N@, "@S@"
''',
    '''
@A@_DEFAULTS = {
    "@A@": @N@,
    "@B@": "@S@",
    "@C@": os.environ.get("@C@_PATH", "/var/lib/@C@"),
    "checksum": "@H@",
}
''',
]

F_JS = [
    """import { @A@ } from './@B@';
import @T@ from '../@C@/@T@';

// @S@
export const @A@Limit = @N@;
""",
    """export function @A@@T@(@B@, options = {}) {
  const { @C@ = @N@, verbose = false } = options;
  if (!Array.isArray(@B@)) {
    throw new TypeError('@S@');
  }
  return @B@
    .filter((x) => x && x.@A@ !== undefined)
    .map((x) => ({ ...x, @C@ }));
}
""",
    """class @T@ extends EventEmitter {
  constructor(@A@) {
    super();
    this.@A@ = @A@;
    this.@B@ = new Map();
    this.requestId = '@U@';
  }

  async @C@(key) {
    if (this.@B@.has(key)) return this.@B@.get(key);
    const res = await fetch(`${this.@A@}/@C@/${key}`);
    if (!res.ok) throw new Error('@S@');
    const body = await res.json();
    this.@B@.set(key, body);
    return body;
  }
}
""",
    """describe('@T@', () => {
  it('@S@', async () => {
    const v = new @T@('@A@');
    expect(await v.@C@('@B@')).toEqual({ @A@: @N@ });
  });
});
""",
    """module.exports = {
  @A@: process.env.@C@ || '@B@',
  port: @N@,
  hash: '@H@',
};
""",
]

F_GO = [
    """package @A@

import (
	"context"
	"fmt"
	"time"
)

// @T@ holds the @B@ state. @S@.
type @T@ struct {
	@T@ID   string
	Limit   int
	Timeout time.Duration
	@B@     map[string][]byte
}
""",
    """func (s *@T@) @T@@N@(ctx context.Context, @A@ string) error {
	if s.@B@ == nil {
		return fmt.Errorf("@S@: %s", @A@)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	s.@B@[@A@] = []byte("@C@")
	return nil
}
""",
    """func Test@T@_@N@(t *testing.T) {
	s := &@T@{Limit: @N@}
	if err := s.@T@@N@(context.Background(), "@A@"); err == nil {
		t.Fatalf("@S@")
	}
}
""",
    """var (
	default@T@ = @N@
	@A@Name    = "@B@-@C@"
	buildHash  = "@H@"
)
""",
]

F_JAVA = [
    """package com.example.@A@;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * @T@ - @S@.
 */
public class @T@ {
    private static final int LIMIT = @N@;
    private final Map<String, List<String>> @B@ = new ConcurrentHashMap<>();
""",
    """    public List<String> get@T@(String @A@) {
        if (@A@ == null || @A@.isEmpty()) {
            throw new IllegalArgumentException("@S@");
        }
        return @B@.computeIfAbsent(@A@, k -> new java.util.ArrayList<>());
    }
""",
    """    @Override
    public String toString() {
        return "@T@{" + "@A@=" + @A@ + ", @C@=" + @C@ + "}";
    }
""",
    """    @Test
    void @A@Handles@T@() {
        @T@ v = new @T@();
        assertEquals(@N@, v.get@T@("@B@").size(), "@S@");
    }
""",
]

F_YAML = [
    """@A@:
  enabled: true
  replicas: @N@
  image: registry.example.com/@B@/@C@:@V@
  resources:
    limits:
      cpu: "500m"
      memory: "@N@Mi"
""",
    """- name: @A@-@B@
  run: |
    make @C@
    ./scripts/@A@.sh --retries @N@
  env:
    @T@_MODE: "@S@"
""",
    """apiVersion: v1
kind: ConfigMap
metadata:
  name: @A@-@B@
  namespace: @C@
  labels:
    app.kubernetes.io/name: @A@
data:
  LOG_LEVEL: info
  @C@_URL: "http://@B@.@C@.svc:@N@"
---
""",
    """@B@:
  host: @C@.internal
  port: @N@
  tags: [@A@, @B@, @C@]
  digest: "sha256:@H@"
""",
]

F_TOML = [
    """[@A@]
name = "@B@"
version = "@V@"
limit = @N@

[@A@.@C@]
enabled = true
description = "@S@"
""",
    """[dependencies.@A@-@B@]
version = "@V@"
features = ["@C@", "std"]
""",
]

F_INI = [
    """[@A@]
host = @B@.example.internal
port = @N@
; @S@
timeout = 30
@C@_dir = /var/lib/@C@
""",
]

F_MD = [
    """## @T@

The `@A@` module handles @B@ and @C@. @S@, so callers should check the
result before using the `@B@` value. See [the @C@ guide](../@C@/README.md).

""",
    """### Configuration

| key | default | meaning |
| --- | --- | --- |
| `@A@` | `@N@` | @S@ |
| `@B@_timeout` | `30s` | how long to wait for @C@ |

""",
    """```sh
cargo run --release -- @A@ --@B@ @N@
```

- @S@
- the `@C@` flag is optional
- version @V@ changed the default of `@A@`

""",
    """Lorem ipsum dolor sit amet, @A@ consectetur adipiscing elit, sed do eiusmod
tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam,
quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea @B@ commodo
consequat (@S@). Duis aute irure dolor in reprehenderit in voluptate @C@.

""",
]

F_HTML = [
    """<div class="@A@-@B@" id="@C@-@N@">
  <h2>@T@</h2>
  <p>@S@</p>
  <a href="/@A@/@B@?id=@N@">@C@</a>
</div>
""",
    """.@A@-@B@ {
  display: flex;
  margin: @N@px 0;
  color: #@H6@;
}
""",
]

F_SH = [
    """#!/usr/bin/env bash
set -euo pipefail
# @S@
@A@_DIR="${@A@_DIR:-/opt/@B@}"
""",
    """if [ -f "$@A@_DIR/@C@.conf" ]; then
  echo "loading @C@ (@S@)"
  . "$@A@_DIR/@C@.conf"
fi
for f in "$@A@_DIR"/*.@B@; do
  ./bin/@C@ --input "$f" --limit @N@
done
""",
]

LANG_FRAGMENTS = {
    "rust": F_RUST, "py": F_PY, "js": F_JS, "go": F_GO, "java": F_JAVA, "yaml": F_YAML,
    "toml": F_TOML, "ini": F_INI, "md": F_MD, "html": F_HTML, "sh": F_SH,
}
COMMENT = {
    "rust": "//", "py": "#", "js": "//", "go": "//", "java": "//", "yaml": "#", "toml": "#",
    "ini": ";", "md": None, "html": None, "sh": "#",
}

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
UPPER32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
URLSAFE = ALNUM + "_-"
B64 = ALNUM + "+/"


def rstr(rng, alphabet, n):
    return "".join(rng.choices(alphabet, k=n))


def ident(rng):
    a = rng.choice(WORDS)
    return a if rng.random() < 0.4 else a + "_" + rng.choice(WORDS)


def camel(s):
    return "".join(p.capitalize() for p in s.split("_"))


def uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def version(rng):
    return "%d.%d.%d" % (rng.randint(0, 4), rng.randint(0, 30), rng.randint(0, 20))


class Vocab:
    """Per-file vocabulary: a handful of identifiers reused throughout one file."""

    def __init__(self, rng):
        self.rng = rng
        self.ids = [ident(rng) for _ in range(10)]

    def fill(self, frag):
        rng = self.rng
        ids = self.ids
        a, b, c = rng.choice(ids), rng.choice(ids), rng.choice(ids)
        frag = frag.replace("@A@", a).replace("@B@", b).replace("@C@", c)
        if "@T@" in frag:
            frag = frag.replace("@T@", camel(rng.choice(ids)))
        if "@N@" in frag:
            frag = frag.replace("@N@", str(rng.randint(1, 65535)))
        if "@S@" in frag:
            frag = frag.replace("@S@", rng.choice(PHRASES))
        if "@H@" in frag:
            frag = frag.replace("@H@", "%064x" % rng.getrandbits(256))
        if "@H6@" in frag:
            frag = frag.replace("@H6@", "%06x" % rng.getrandbits(24))
        if "@U@" in frag:
            frag = frag.replace("@U@", uuid(rng))
        if "@V@" in frag:
            frag = frag.replace("@V@", version(rng))
        return frag


# --------------------------------------------------------------------------
# Text generators: each returns a str of roughly `size` bytes.
# --------------------------------------------------------------------------

def gen_code(lang, size, rng, fid, path):
    v = Vocab(rng)
    frags = LANG_FRAGMENTS[lang]
    cm = COMMENT[lang]
    if cm:
        head = "%s %s - generated benchmark file %s\n%s SPDX-License-Identifier: MIT\n\n" % (cm, path, fid, cm)
    elif lang == "md":
        head = "# %s\n\n<!-- %s -->\n\n" % (camel(v.ids[0]).replace("_", " "), fid)
    else:
        head = "<!-- %s %s -->\n" % (path, fid)
    parts = [head]
    n = len(head)
    while n < size:
        f = v.fill(rng.choice(frags))
        parts.append(f)
        n += len(f)
        if cm and rng.random() < 0.15:
            c = "%s TODO(%s): %s\n" % (cm, rng.choice(WORDS), rng.choice(PHRASES))
            parts.append(c)
            n += len(c)
    return "".join(parts)


def gen_json(size, rng, fid, path):
    v = Vocab(rng)
    parts = ['{\n  "_id": "%s",\n  "name": "%s",\n  "version": "%s",\n  "items": [\n' % (fid, v.ids[0], version(rng))]
    n = len(parts[0])
    first = True
    while n < size:
        s = '%s    {"id": "%s", "%s": %d, "%s": "%s", "enabled": %s, "tags": ["%s", "%s"]}' % (
            "" if first else ",\n", uuid(rng), rng.choice(v.ids), rng.randint(0, 10**6), rng.choice(v.ids),
            rng.choice(PHRASES), "true" if rng.random() < 0.5 else "false", rng.choice(WORDS), rng.choice(WORDS))
        first = False
        parts.append(s)
        n += len(s)
    parts.append("\n  ]\n}\n")
    return "".join(parts)


def gen_lock(kind, size, rng, fid, path):
    parts = []
    n = 0
    if kind == "cargo":
        parts.append("# This file is automatically @generated by Cargo.\n# %s\nversion = 3\n\n" % fid)
    elif kind == "npm":
        parts.append('{\n  "name": "%s",\n  "lockfileVersion": 3,\n  "requires": true,\n  "packages": {\n' % fid)
    elif kind == "yarn":
        parts.append("# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1 %s\n\n" % fid)
    while n < size:
        name = ident(rng).replace("_", "-")
        ver = version(rng)
        if kind == "cargo":
            s = '[[package]]\nname = "%s"\nversion = "%s"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "%064x"\ndependencies = [\n "%s",\n]\n\n' % (
                name, ver, rng.getrandbits(256), ident(rng).replace("_", "-"))
        elif kind == "npm":
            integ = base64.b64encode(rng.randbytes(64)).decode()
            s = '    "node_modules/%s": {\n      "version": "%s",\n      "resolved": "https://registry.npmjs.org/%s/-/%s-%s.tgz",\n      "integrity": "sha512-%s",\n      "dev": true\n    },\n' % (
                name, ver, name, name, ver, integ)
        elif kind == "yarn":
            integ = base64.b64encode(rng.randbytes(64)).decode()
            s = '%s@^%s:\n  version "%s"\n  resolved "https://registry.yarnpkg.com/%s/-/%s-%s.tgz#%040x"\n  integrity sha512-%s\n\n' % (
                name, ver, ver, name, name, ver, rng.getrandbits(160), integ)
        else:  # go.sum
            h = base64.b64encode(rng.randbytes(32)).decode()
            s = "github.com/%s/%s v%s h1:%s\ngithub.com/%s/%s v%s/go.mod h1:%s\n" % (
                rng.choice(WORDS), name, ver, h, rng.choice(WORDS), name, ver, base64.b64encode(rng.randbytes(32)).decode())
        parts.append(s)
        n += len(s)
    if kind == "npm":
        parts.append('    "": {}\n  }\n}\n')
    return "".join(parts)


def gen_minjs(size, rng, fid, path):
    v = Vocab(rng)
    parts = ["/*! %s %s | MIT */" % (path.rsplit("/", 1)[-1], fid)]
    n = len(parts[0])
    while n < size:
        f = v.fill(rng.choice(F_JS))
        f = " ".join(f.split())  # collapse whitespace like a minifier
        if rng.random() < 0.3:
            f += 'var _0x%06x="%s";' % (rng.getrandbits(24), base64.b64encode(rng.randbytes(rng.randint(16, 96))).decode())
        parts.append(f)
        n += len(f)
    return "".join(parts) + "\n"


def gen_log(size, rng, fid, path):
    v = Vocab(rng)
    t = 1_700_000_000 + rng.randint(0, 30_000_000)
    levels = ["INFO"] * 8 + ["DEBUG"] * 6 + ["WARN"] * 2 + ["ERROR"]
    parts = ["# log %s\n" % fid]
    n = len(parts[0])
    while n < size:
        t += rng.randint(0, 3)
        s = "%s.%03dZ %-5s [%s] req=%s ip=10.%d.%d.%d %s=%d dur=%dms %s\n" % (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)), rng.randint(0, 999), rng.choice(levels),
            rng.choice(v.ids), uuid(rng), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254),
            rng.choice(v.ids), rng.randint(0, 10**5), rng.randint(0, 5000), rng.choice(PHRASES))
        parts.append(s)
        n += len(s)
    return "".join(parts)


def gen_csv(size, rng, fid, path):
    v = Vocab(rng)
    parts = ["id,%s,%s,%s,timestamp,score\n" % tuple(v.ids[:3])]
    n = len(parts[0])
    while n < size:
        s = "%s,%d,%s,%.4f,%d,%.2f\n" % (uuid(rng), rng.randint(0, 10**6), rng.choice(WORDS), rng.random() * 1000,
                                          1_600_000_000 + rng.randint(0, 10**8), rng.random() * 100)
        parts.append(s)
        n += len(s)
    return "".join(parts)


TEXT_KINDS = {
    "rust", "py", "js", "go", "java", "yaml", "toml", "ini", "md", "html", "sh", "json", "minjs",
    "log", "csv", "lock-cargo", "lock-npm", "lock-yarn", "lock-gosum",
}


def gen_text(kind, size, rng, fid, path):
    if kind in LANG_FRAGMENTS:
        return gen_code(kind, size, rng, fid, path)
    if kind == "json":
        return gen_json(size, rng, fid, path)
    if kind == "minjs":
        return gen_minjs(size, rng, fid, path)
    if kind == "log":
        return gen_log(size, rng, fid, path)
    if kind == "csv":
        return gen_csv(size, rng, fid, path)
    if kind.startswith("lock-"):
        return gen_lock(kind[5:], size, rng, fid, path)
    raise ValueError(kind)


# --------------------------------------------------------------------------
# Binary generators: correct magic/structure, random-ish payload.
# --------------------------------------------------------------------------

def binary_payload(rng, size):
    """Random-ish bytes: mostly noise, with runs of zeros, repeated patterns and strings."""
    out = bytearray()
    while len(out) < size:
        r = rng.random()
        n = rng.randint(256, 65536)
        if r < 0.7:
            out += rng.randbytes(n)
        elif r < 0.8:
            out += bytes(n)
        elif r < 0.9:
            out += rng.randbytes(16) * (n // 16)
        else:
            out += ("\0".join(ident(rng) for _ in range(n // 12))).encode()
    del out[size:]
    return bytes(out)


def png_chunk(typ, data):
    return struct.pack(">I", len(data)) + typ + data + struct.pack(">I", zlib.crc32(typ + data) & 0xFFFFFFFF)


def gen_binary(kind, size, rng, fid):
    tag = fid.encode()
    if kind == "png":
        ihdr = struct.pack(">IIBBBBB", rng.randint(16, 4096), rng.randint(16, 4096), 8, 6, 0, 0, 0)
        body = binary_payload(rng, max(64, size - 80))
        return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"tEXt", b"Comment\0" + tag)
                + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b""))
    if kind == "jpg":
        return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xfe" + struct.pack(
            ">H", len(tag) + 2) + tag + binary_payload(rng, max(64, size - 64)) + b"\xff\xd9"
    if kind == "gif":
        return b"GIF89a" + struct.pack("<HH", rng.randint(1, 512), rng.randint(1, 512)) + tag + binary_payload(rng, max(32, size - 48)) + b";"
    if kind == "woff2":
        return b"wOF2\x00\x01\x00\x00" + struct.pack(">I", size) + tag + binary_payload(rng, max(32, size - 48))
    if kind == "elf":
        hdr = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0x1040, 64, 0, 0, 64, 56, 9, 64, 30, 29)
        strtab = ("\0".join(["GLIBC_2.2.5", "malloc", "free", "memcpy", "__libc_start_main", fid]
                            + ["_ZN%d%s%d%sE" % (len(w), w, len(x), x) for w, x in ((ident(rng), ident(rng)) for _ in range(200))])).encode()
        return hdr + binary_payload(rng, max(64, size - len(strtab) - 64)) + strtab
    if kind in ("zip", "jar"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            if kind == "jar":
                z.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", (2020, 1, 1, 0, 0, 0)),
                           "Manifest-Version: 1.0\nCreated-By: %s\n" % fid)
            done = 0
            i = 0
            while done < size - 200:
                n = min(size - done, rng.randint(2048, 262144))
                name = "%s/%s%s" % (ident(rng), ident(rng), ".class" if kind == "jar" else ".bin")
                data = (b"\xca\xfe\xba\xbe\x00\x00\x00\x34" if kind == "jar" else b"") + binary_payload(rng, n)
                z.writestr(zipfile.ZipInfo("%s_%d" % (name, i), (2020, 1, 1, 0, 0, 0)), data)
                done += n + 60
                i += 1
        return buf.getvalue()
    raise ValueError(kind)


# --------------------------------------------------------------------------
# Deterministic key and certificate material.
# --------------------------------------------------------------------------

SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def is_probable_prime(n, rng, rounds=24):
    for p in SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def seeded_rsa(rng, bits=2048):
    e = 65537
    while True:
        ps = []
        while len(ps) < 2:
            c = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
            if (c - 1) % e and is_probable_prime(c, rng):
                ps.append(c)
        p, q = ps
        if p != q and (p * q).bit_length() == bits:
            break
    d = pow(e, -1, (p - 1) * (q - 1))
    nums = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                 rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, p * q))
    return nums.private_key()


def seeded_ec(rng, curve):
    order = {"P-256": 2**256 - 2**224 + 2**192 - 89188191075325690597107910205543636483,
             "P-384": 39402006196394479212279040100143613805079739270465446667946905279627659399113263569398956308152294913554433653942643}[curve]
    c = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[curve]
    return ec.derive_private_key(rng.randrange(1, order), c)


def sign_args(key):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return {"algorithm": None}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"algorithm": hashes.SHA256(), "ecdsa_deterministic": True}
    return {"algorithm": hashes.SHA256()}  # RSA PKCS#1 v1.5 is deterministic


def make_cert(rng, subject_cn, key, issuer_cert, issuer_key, is_ca, not_before, days, org):
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    issuer = issuer_cert.subject if issuer_cert is not None else name
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer).public_key(key.public_key())
         .serial_number(rng.getrandbits(120) | 1).not_valid_before(not_before)
         .not_valid_after(not_before + dt.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if not is_ca:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject_cn), x509.DNSName("www." + subject_cn)]), critical=False)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return b.sign(issuer_key if issuer_key is not None else key, **sign_args(issuer_key if issuer_key is not None else key))


class Material:
    """A seeded pool of keys, CA certs and leaf certs."""

    def __init__(self, seed, n_leaves):
        rng = Random("material:%d" % seed)
        base = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
        self.cas = []  # (cert, key)
        for i, (cn, kt) in enumerate([("Bench Root CA R1", "rsa"), ("Bench Root CA E1", "P-384"), ("Bench Root CA X1", "ed25519")]):
            key = self.new_key(rng, kt)
            self.cas.append((make_cert(rng, cn, key, None, None, True, base, 3650 * 2, "Bench Trust Services"), key))
        inter_key = self.new_key(rng, "P-256")
        inter = make_cert(rng, "Bench Issuing CA 2024", inter_key, self.cas[0][0], self.cas[0][1], True, base, 3650, "Bench Trust Services")
        self.cas.append((inter, inter_key))
        self.leaves = []  # (cert, key, chain)
        rsa_keys = [seeded_rsa(rng) for _ in range(4)]
        for i in range(n_leaves):
            cn = "%s-%d.%s.example.com" % (rng.choice(WORDS), i, rng.choice(["corp", "svc", "prod", "dev", "internal"]))
            r = rng.random()
            key = rsa_keys[i % 4] if r < 0.25 else (self.new_key(rng, "ed25519") if r < 0.32 else self.new_key(rng, "P-256"))
            ca_i = rng.choice([0, 1, 3, 3])
            ca_cert, ca_key = self.cas[ca_i]
            nb = base + dt.timedelta(days=rng.randint(-400, 900))
            days = rng.choice([30, 90, 90, 365, 398, 825])  # some expired, some valid, some long-lived
            chain = [ca_cert] + ([self.cas[0][0]] if ca_i == 3 else [])
            self.leaves.append((make_cert(rng, cn, key, ca_cert, ca_key, False, nb, days, "Example Org %d" % i), key, chain))

    @staticmethod
    def new_key(rng, kt):
        if kt == "rsa":
            return seeded_rsa(rng)
        if kt == "ed25519":
            return ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        return seeded_ec(rng, kt)


def pem_cert(c):
    return c.public_bytes(serialization.Encoding.PEM).decode()


def pem_key(k, fmt):
    E = serialization.Encoding
    F = serialization.PrivateFormat
    if fmt == "traditional" and not isinstance(k, ed25519.Ed25519PrivateKey):
        return k.private_bytes(E.PEM, F.TraditionalOpenSSL, serialization.NoEncryption()).decode()
    if fmt == "encrypted":
        return k.private_bytes(E.PEM, F.PKCS8, serialization.BestAvailableEncryption(b"bench-passphrase")).decode()
    if fmt == "openssh":
        return k.private_bytes(E.PEM, F.OpenSSH, serialization.NoEncryption()).decode()
    return k.private_bytes(E.PEM, F.PKCS8, serialization.NoEncryption()).decode()


def key_type(k):
    if isinstance(k, rsa.RSAPrivateKey):
        return "rsa-%d" % k.key_size
    if isinstance(k, ec.EllipticCurvePrivateKey):
        return "ec-" + k.curve.name
    return "ed25519"


# --------------------------------------------------------------------------
# Fake provider tokens (random characters with the right shape).
# --------------------------------------------------------------------------

def base62(n, width):
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[r] + s
    return s.rjust(width, "0")


def token(rng, kind):
    if kind in ("github", "npm"):
        body = rstr(rng, ALNUM, 30)  # 30 random chars + 6-char base62 CRC32, like the real format
        return ("ghp_" if kind == "github" else "npm_") + body + base62(zlib.crc32(body.encode()), 6)
    if kind == "aws":
        return "AKIA" + rstr(rng, UPPER32, 16)
    if kind == "slack":
        return "xoxb-%d-%d-%s" % (rng.randint(10**10, 10**12), rng.randint(10**12, 10**13 - 1), rstr(rng, ALNUM, 24))
    if kind == "stripe":
        return "sk_live_" + rstr(rng, ALNUM, rng.choice([24, 99]))
    if kind == "gitlab":
        return "glpat-" + rstr(rng, URLSAFE[:-2] + "_-", 20)
    if kind == "google":
        return "AIza" + rstr(rng, URLSAFE, 35)
    raise ValueError(kind)


TOKEN_KINDS = ["github", "aws", "slack", "stripe", "gitlab", "google", "npm"]
TOKEN_VAR = {"github": "GITHUB_TOKEN", "aws": "AWS_ACCESS_KEY_ID", "slack": "SLACK_BOT_TOKEN",
             "stripe": "STRIPE_SECRET_KEY", "gitlab": "GITLAB_TOKEN", "google": "GOOGLE_API_KEY", "npm": "NPM_TOKEN"}


def token_snippet(rng, kind, tok, host_kind):
    """Render a token the way it leaks in a file of host_kind."""
    var = TOKEN_VAR[kind]
    extra = ""
    if kind == "aws":  # access key ids leak together with their secret
        sec = rstr(rng, B64, 40)
        if host_kind == "yaml":
            extra = "\n  aws_secret_access_key: %s" % sec
        elif host_kind in ("ini", "sh", "env", "toml"):
            extra = "\nAWS_SECRET_ACCESS_KEY=%s" % sec if host_kind != "toml" else '\naws_secret_access_key = "%s"' % sec
        elif host_kind == "json":
            extra = '\n  "aws_secret_access_key": "%s",' % sec
        elif host_kind in ("log", "md"):
            extra = "\naws_secret_access_key=%s" % sec
        else:
            extra = '\nAWS_SECRET_ACCESS_KEY = "%s"' % sec
    if host_kind == "py":
        return '%s = "%s"  # FIXME: move to vault%s\n' % (var, tok, extra)
    if host_kind == "js":
        return "const %s = '%s';%s\n" % (camel(var.lower()), tok, extra)
    if host_kind == "go":
        return '\tconst %s = "%s"%s\n' % (camel(var.lower()), tok, extra)
    if host_kind == "rust":
        return 'const %s: &str = "%s";%s\n' % (var, tok, extra)
    if host_kind == "java":
        return '    private static final String %s = "%s";%s\n' % (var, tok, extra)
    if host_kind == "yaml":
        return "credentials:\n  %s: %s%s\n" % (var.lower(), tok, extra)
    if host_kind == "json":
        return '  "%s": "%s",%s\n' % (var.lower(), tok, extra)
    if host_kind == "log":
        return "2024-03-02T11:04:05.123Z DEBUG [http] outgoing request headers: Authorization: Bearer %s%s\n" % (tok, extra)
    if host_kind == "md":
        return "Export the token before running: `export %s=%s`%s\n\n" % (var, tok, extra)
    if host_kind == "toml":
        return '%s = "%s"%s\n' % (var.lower(), tok, extra)
    return "%s=%s%s\n" % (var, tok, extra)  # ini / sh / env


def pem_embedded(pem, host_kind, label):
    """Render a PEM block embedded in a file of host_kind."""
    if host_kind == "yaml":
        return "%s: |\n%s" % (label, "".join("  " + l + "\n" for l in pem.strip().splitlines()))
    if host_kind == "json":
        return '  "%s": %s,\n' % (label, json.dumps(pem))
    if host_kind == "py":
        return '%s = """\\\n%s"""\n' % (label.upper(), pem)
    if host_kind == "go":
        return "const %s = `%s`\n" % (camel(label), pem)
    if host_kind == "rust":
        return 'const %s: &str = r#"%s"#;\n' % (label.upper(), pem)
    if host_kind == "js":
        return "export const %s = `%s`;\n" % (camel(label), pem)
    if host_kind == "java":
        return '    static final String %s = """\n%s""";\n' % (label.upper(), pem)
    if host_kind == "md":
        return "Example %s:\n\n```\n%s```\n\n" % (label, pem)
    return pem  # ini/sh/log/toml: raw


# --------------------------------------------------------------------------
# Tree layout.
# --------------------------------------------------------------------------

# project type -> list of (weight, kind, dir-role, extensions)
PROJECT_TYPES = {
    "rust": [(50, "rust", "src", [".rs"]), (10, "rust", "tests", [".rs"]), (8, "md", "docs", [".md"]),
             (6, "toml", "config", [".toml"]), (5, "yaml", "ci", [".yml"]), (3, "json", "fixtures", [".json"]),
             (3, "sh", "scripts", [".sh"]), (2, "csv", "fixtures", [".csv"]), (2, "png", "assets", [".png"])],
    "python": [(50, "py", "src", [".py"]), (14, "py", "tests", [".py"]), (8, "md", "docs", [".md", ".rst"]),
               (5, "yaml", "config", [".yaml"]), (4, "ini", "config", [".ini", ".cfg"]), (4, "json", "fixtures", [".json"]),
               (4, "csv", "data", [".csv"]), (2, "toml", "root", [".toml"]), (2, "png", "assets", [".png"])],
    "node": [(40, "js", "src", [".js", ".ts", ".tsx", ".jsx"]), (10, "js", "tests", [".test.js", ".spec.ts"]),
             (8, "json", "config", [".json"]), (6, "md", "docs", [".md"]), (8, "html", "public", [".html", ".css"]),
             (3, "yaml", "ci", [".yml"]), (4, "png", "public", [".png", ".jpg", ".gif"]), (2, "woff2", "public", [".woff2"])],
    "go": [(55, "go", "src", [".go"]), (18, "go", "tests", ["_test.go"]), (6, "md", "docs", [".md"]),
           (6, "yaml", "deploy", [".yaml"]), (4, "json", "fixtures", [".json"]), (3, "sh", "scripts", [".sh"])],
    "java": [(55, "java", "src", [".java"]), (15, "java", "tests", ["Test.java"]), (6, "md", "docs", [".md"]),
             (6, "yaml", "config", [".yml"]), (5, "ini", "config", [".properties"]), (4, "html", "public", [".html"]),
             (2, "png", "assets", [".png"])],
    "infra": [(40, "yaml", "deploy", [".yaml", ".yml"]), (10, "json", "config", [".json"]), (10, "ini", "config", [".conf", ".ini"]),
              (10, "sh", "scripts", [".sh"]), (10, "md", "docs", [".md"]), (8, "toml", "config", [".toml"]), (6, "log", "logs", [".log"])],
    "docs": [(60, "md", "docs", [".md", ".txt"]), (15, "html", "site", [".html", ".css"]), (10, "png", "images", [".png", ".jpg"]),
             (8, "yaml", "root", [".yml"]), (7, "json", "data", [".json"])],
}
PROJECT_TYPE_WEIGHTS = [("rust", 16), ("python", 20), ("node", 22), ("go", 14), ("java", 12), ("infra", 8), ("docs", 8)]
VENDOR_DIR = {"rust": "vendor", "python": ".venv/lib/python3.11/site-packages", "node": "node_modules",
              "go": "vendor/github.com", "java": "third_party", "infra": "charts", "docs": "node_modules"}
VENDOR_KIND = {"rust": ("rust", ".rs"), "python": ("py", ".py"), "node": ("js", ".js"), "go": ("go", ".go"),
               "java": ("java", ".java"), "infra": ("yaml", ".yaml"), "docs": ("js", ".js")}
ROLE_DIRS = {"src": ["src", "lib", "pkg", "internal", "app", "core"], "tests": ["tests", "test", "spec", "it"],
             "docs": ["docs", "doc", "guide"], "config": ["config", "conf", "etc"], "ci": [".github/workflows", ".ci", "ci"],
             "fixtures": ["testdata", "fixtures", "tests/fixtures"], "scripts": ["scripts", "tools", "bin"],
             "assets": ["assets", "res", "static"], "data": ["data", "datasets"], "public": ["public", "static", "web"],
             "deploy": ["deploy", "k8s", "manifests", "helm/templates"], "logs": ["logs", "var/log"],
             "site": ["site", "_site"], "images": ["images", "img"], "root": [""]}
EXT_OF_LOCK = {"rust": ("lock-cargo", "Cargo.lock"), "python": ("lock-cargo", "poetry.lock"), "node": ("lock-npm", "package-lock.json"),
               "go": ("lock-gosum", "go.sum"), "java": ("lock-yarn", "yarn.lock"), "infra": ("lock-yarn", "yarn.lock"),
               "docs": ("lock-npm", "package-lock.json")}
BINARY_KINDS = {"png", "jpg", "gif", "woff2", "elf", "zip", "jar"}
EXT_KIND = {".jpg": "jpg", ".gif": "gif", ".png": "png", ".woff2": "woff2"}


def lognormal_size(rng, median, sigma, lo, hi):
    return int(min(hi, max(lo, rng.lognormvariate(math.log(median), sigma))))


class Planner:
    def __init__(self, rng):
        self.rng = rng
        self.paths = set()
        self.files = []  # dicts: path, kind, size, (plants), (data)

    def unique(self, path):
        if path not in self.paths:
            self.paths.add(path)
            return path
        stem, dot, ext = path.rpartition(".")
        if not dot or "/" in ext:
            stem, ext = path, ""
        i = 2
        while True:
            p = "%s_%d%s" % (stem, i, "." + ext if ext else "")
            if p not in self.paths:
                self.paths.add(p)
                return p
            i += 1

    def add(self, path, kind, size, **kw):
        f = {"path": self.unique(path), "kind": kind, "size": size}
        f.update(kw)
        self.files.append(f)
        return f


def plan_projects(args):
    """Projects: (root dir, type, file count), from their own seeded RNG (independent of the material)."""
    rng = Random("projects:%d" % args.seed)
    n_projects = max(3, args.files // 400)
    orgs = [rng.choice(WORDS) + rng.choice(["-labs", "-io", "-team", "", "-oss"]) for _ in range(max(2, n_projects // 12))]
    projects = []
    seen = set()
    for _ in range(n_projects):
        ptype = rng.choices([t for t, _ in PROJECT_TYPE_WEIGHTS], [w for _, w in PROJECT_TYPE_WEIGHTS])[0]
        root = "%s/%s-%s" % (rng.choice(orgs), ident(rng).replace("_", "-"), ptype)
        while root in seen:
            root += "-2"
        seen.add(root)
        projects.append((root, ptype, rng.paretovariate(1.2)))
    return projects


def plan_tree(args, projects, material_files):
    """Return a Planner holding the file specs (path, kind, size) before planting."""
    rng = Random("layout:%d" % args.seed)
    pl = Planner(rng)
    target_files = args.files - len(material_files)
    # Project file counts: heavy-tailed, normalised to the target.
    raw = [w for _, _, w in projects]
    scale = target_files / sum(raw)
    counts = [max(5, int(r * scale)) for r in raw]
    counts[0] = max(5, counts[0] + target_files - sum(counts))
    for (root, ptype, _), count in zip(projects, counts):
        # Module subdirectories: a small tree grown by adding children to random existing dirs,
        # about one directory per ~10 files, which gives real-repo depth and fan-out.
        modules = [""]
        for _ in range(max(2, count // 25)):
            parent = rng.choice(modules)
            modules.append((parent + "/" if parent else "") + ident(rng))
        role_dir = {role: rng.choice(names) for role, names in ROLE_DIRS.items()}  # one layout per repo
        spec = PROJECT_TYPES[ptype]
        weights = [w for w, *_ in spec]
        remaining = count
        # Fixed root files.
        for name, kind, size in (("README.md", "md", lognormal_size(rng, 6000, 0.8, 500, 60000)),
                                 (".gitignore", "ini", 300), ("LICENSE", "md", 11000)):
            if remaining > 3:
                pl.add(root + "/" + name, kind, size)
                remaining -= 1
        if remaining > 10:
            lk, ln = EXT_OF_LOCK[ptype]
            pl.add(root + "/" + ln, lk, lognormal_size(rng, 120000, 1.0, 8000, 3 * MB))
            remaining -= 1
        # Vendored dependencies: about 30% of the files in projects that have them.
        vendor_n = int(remaining * 0.3) if rng.random() < 0.6 else 0
        vk, vext = VENDOR_KIND[ptype]
        while vendor_n > 0:
            pkg = ident(rng).replace("_", "-")
            base = "%s/%s/%s" % (root, VENDOR_DIR[ptype], pkg)
            n_pkg = min(vendor_n, rng.randint(3, 40))
            pl.add(base + ("/package.json" if ptype in ("node", "docs") else "/README.md"),
                   "json" if ptype in ("node", "docs") else "md", lognormal_size(rng, 2000, 0.7, 300, 20000))
            subs = ["lib", "src", "dist", "lib/" + ident(rng), "src/" + ident(rng), "src/" + ident(rng)]
            for j in range(n_pkg - 1):
                sub = rng.choice(subs)
                if ptype in ("node", "docs") and sub == "dist" and rng.random() < 0.4:
                    pl.add("%s/dist/%s.min.js" % (base, ident(rng)), "minjs", lognormal_size(rng, 30000, 1.3, 2000, 3 * MB))
                else:
                    pl.add("%s/%s/%s%s" % (base, sub, ident(rng), vext), vk, lognormal_size(rng, 3500, 1.0, 200, 400000))
            vendor_n -= n_pkg
            remaining -= n_pkg
        # Project's own files.
        for _ in range(max(0, remaining)):
            _, kind, role, exts = rng.choices(spec, weights)[0]
            d = role_dir[role]
            if role in ("src", "tests", "docs", "deploy"):
                m = rng.choice(modules if role == "src" else modules[:max(1, len(modules) // 4)])
                d = d + "/" + m if m else d
            ext = rng.choice(exts)
            name = ident(rng)
            if kind == "java":
                name = camel(name)
            if kind == "png":
                kind = EXT_KIND.get(ext, "png")
                size = lognormal_size(rng, 12000, 1.4, 200, 2 * MB)
            elif kind == "woff2":
                size = lognormal_size(rng, 40000, 0.6, 8000, 300000)
            elif kind == "log":
                size = lognormal_size(rng, 60000, 1.6, 2000, 8 * MB)
            elif kind == "csv":
                size = lognormal_size(rng, 15000, 1.5, 500, 4 * MB)
            else:
                size = lognormal_size(rng, 4500, 0.95, 150, 600000)
            pl.add("%s/%s/%s%s" % (root, d, name, ext) if d else "%s/%s%s" % (root, name, ext), kind, size)
        # A few big release artefacts in some projects.
        if rng.random() < 0.15:
            kind, ext = rng.choice([("elf", ".so"), ("elf", ""), ("zip", ".zip"), ("jar", ".jar"), ("png", ".png")])
            d = rng.choice(["target/release", "dist", "build/libs", "bin", "assets"])
            pl.add("%s/%s/%s%s" % (root, d, ident(rng), ext), kind, lognormal_size(rng, 2 * MB, 0.7, 700000, 8 * MB))
    # Trim/pad to the exact file target (vendored dirs may overshoot).
    extra = len(pl.files) - target_files
    if extra > 0:
        for f in rng.sample(pl.files, extra):
            f["drop"] = True
        pl.files = [f for f in pl.files if not f.get("drop")]
    while len(pl.files) < target_files:
        src = rng.choice(pl.files)
        d = src["path"].rsplit("/", 1)[0]
        pl.add("%s/%s.md" % (d, ident(rng)), "md", lognormal_size(rng, 4000, 0.9, 200, 60000))
    # Scale sizes so that the total lands on the byte target (material files count as-is).
    target_bytes = int(args.size_gb * 1024 ** 3) - sum(len(m["data"]) for m in material_files)
    fixed = sum(f["size"] for f in pl.files if f["kind"] in BINARY_KINDS and f["size"] > 500000)
    flex = sum(f["size"] for f in pl.files) - fixed
    k = max(0.05, (target_bytes - fixed) / flex)
    for f in pl.files:
        if not (f["kind"] in BINARY_KINDS and f["size"] > 500000):
            f["size"] = max(100, int(f["size"] * k))
    return pl


# --------------------------------------------------------------------------
# Planting.
# --------------------------------------------------------------------------

HOSTABLE = {"rust", "py", "js", "go", "java", "yaml", "json", "ini", "md", "sh", "log", "toml"}


def build_material_files(mat, rng, project_roots):
    """Standalone certificate/key/keystore files. Returns list of dicts with path, data, manifest entries."""
    out = []

    def place(sub):
        return "%s/%s" % (rng.choice(project_roots), sub)

    leaves = list(mat.leaves)
    li = iter(range(len(leaves)))

    def next_leaf():
        return leaves[next(li) % len(leaves)]

    def add(path, data, kind, detail, deterministic=True, count=1):
        out.append({"path": path, "data": data, "items": [{"kind": kind, "detail": detail, "deterministic": deterministic, "count": count}]})

    # Standalone PEM certs, keys, bundles.
    for i in range(24):
        c, k, chain = next_leaf()
        cn = c.subject.rfc4514_string()
        name = cn.split("CN=")[1].split(",")[0].split(".")[0]
        add(place("%s/%s.%s" % (rng.choice(["certs", "config/tls", "deploy/certs", "ssl"]), name, rng.choice(["pem", "crt"]))),
            pem_cert(c).encode(), "pem-certificate", cn)
    for i in range(16):
        c, k, chain = next_leaf()
        fmt = ["pkcs8", "traditional", "traditional", "pkcs8"][i % 4]
        add(place("%s/%s.key" % (rng.choice(["certs", "config/tls", "secrets", "ssl/private"]), ident(rng))),
            pem_key(k, fmt).encode(), "pem-private-key", "%s %s" % (key_type(k), fmt))
    for i in range(4):
        c, k, chain = next_leaf()
        add(place("secrets/%s.enc.key" % ident(rng)), pem_key(k, "encrypted").encode(), "pem-encrypted-private-key",
            key_type(k) + " pkcs8 encrypted (passphrase bench-passphrase)", deterministic=False)
    for i in range(3):
        k = Material.new_key(rng, "ed25519") if i else leaves[0][1]
        add(place(".ssh/id_%s" % ("ed25519" if i else "rsa")), pem_key(k, "openssh").encode(), "openssh-private-key",
            key_type(k), deterministic=False)
    for i in range(8):
        c, k, chain = next_leaf()
        data = pem_cert(c) + "".join(pem_cert(x) for x in chain)
        add(place("deploy/tls/fullchain-%s.pem" % ident(rng)), data.encode(), "pem-certificate", "chain of %d" % (1 + len(chain)), count=1 + len(chain))
    for i in range(6):
        c, k, chain = next_leaf()
        data = pem_cert(c) + pem_key(k, "pkcs8")
        out.append({"path": place("config/tls/%s-bundle.pem" % ident(rng)), "data": data.encode(),
                    "items": [{"kind": "pem-certificate", "detail": "cert+key bundle", "deterministic": True, "count": 1},
                              {"kind": "pem-private-key", "detail": key_type(k) + " pkcs8", "deterministic": True, "count": 1}]})
    ca_bundle = "".join("# %s\n%s\n" % (c.subject.rfc4514_string(), pem_cert(c)) for c, _ in mat.cas)
    add(place("etc/ssl/ca-bundle.crt"), ca_bundle.encode(), "pem-certificate", "CA bundle", count=len(mat.cas))
    # DER certificates and keys.
    for i in range(6):
        c, k, chain = next_leaf()
        add(place("certs/%s.%s" % (ident(rng), rng.choice(["der", "cer"]))), c.public_bytes(serialization.Encoding.DER),
            "der-certificate", c.subject.rfc4514_string())
    for i in range(2):
        c, k, chain = next_leaf()
        add(place("secrets/%s.der" % ident(rng)), k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                                 serialization.NoEncryption()), "der-private-key", key_type(k))
    # PKCS#12.
    p12_for_jks = None
    for i in range(5):
        c, k, chain = next_leaf()
        if i < 2:
            enc, det, note = serialization.NoEncryption(), True, "unencrypted"
        elif i < 4:
            enc, det, note = serialization.BestAvailableEncryption(b"changeit"), False, "password changeit"
        else:
            enc = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
                   .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1()).build(b"changeit"))
            det, note = False, "legacy 3DES, password changeit"
        data = pkcs12.serialize_key_and_certificates(b"server", k, c, chain, enc)
        if i == 2:
            p12_for_jks = data
        out.append({"path": place("%s/%s.%s" % (rng.choice(["certs", "config", "keystores"]), ident(rng), rng.choice(["p12", "pfx"]))),
                    "data": data, "items": [{"kind": "pkcs12", "detail": note + ", 1 key, %d certs" % (1 + len(chain)),
                                             "deterministic": det, "count": 1}]})
    # JKS via keytool, if available.
    jks = make_jks(p12_for_jks, [mat.cas[0][0], mat.cas[1][0]])
    for name, data, detail in jks:
        add(place("src/main/resources/%s" % name), data, "jks", detail, deterministic=False)
    # A ZIP (release bundle) carrying a cert and key inside.
    for i in range(2):
        c, k, chain = next_leaf()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(zipfile.ZipInfo("README.txt", (2024, 1, 1, 0, 0, 0)), "TLS material for %s\n" % ident(rng))
            z.writestr(zipfile.ZipInfo("tls/server.crt", (2024, 1, 1, 0, 0, 0)), pem_cert(c))
            z.writestr(zipfile.ZipInfo("tls/server.key", (2024, 1, 1, 0, 0, 0)), pem_key(k, "pkcs8"))
        out.append({"path": place("dist/%s-tls.zip" % ident(rng)), "data": buf.getvalue(),
                    "items": [{"kind": "zip-with-pem", "detail": "tls/server.crt + tls/server.key", "deterministic": True, "count": 2}]})
    return out


def make_jks(p12, trusted):
    """Make a JKS keystore (from a PKCS#12) and a JKS truststore with keytool. Returns [] without keytool."""
    kt = shutil.which("keytool")
    if not kt or p12 is None:
        print("note: keytool not found, no JKS files planted (apt-get install default-jre-headless)", file=sys.stderr)
        return []
    res = []
    with tempfile.TemporaryDirectory() as td:
        src = os.path.join(td, "in.p12")
        with open(src, "wb") as f:
            f.write(p12)
        ks = os.path.join(td, "keystore.jks")
        ts = os.path.join(td, "truststore.jks")
        try:
            subprocess.run([kt, "-importkeystore", "-srckeystore", src, "-srcstoretype", "PKCS12", "-srcstorepass", "changeit",
                            "-destkeystore", ks, "-deststoretype", "JKS", "-deststorepass", "changeit", "-destkeypass", "changeit",
                            "-noprompt"], check=True, capture_output=True, timeout=120)
            res.append(("keystore.jks", open(ks, "rb").read(), "key entry + chain, password changeit"))
            for i, c in enumerate(trusted):
                cf = os.path.join(td, "ca%d.pem" % i)
                with open(cf, "w") as f:
                    f.write(pem_cert(c))
                subprocess.run([kt, "-importcert", "-noprompt", "-alias", "ca%d" % i, "-file", cf, "-keystore", ts,
                                "-storetype", "JKS", "-storepass", "changeit"], check=True, capture_output=True, timeout=120)
            res.append(("truststore.jks", open(ts, "rb").read(), "%d trusted certs, password changeit" % len(trusted)))
        except (subprocess.SubprocessError, OSError) as e:
            print("note: keytool failed (%s), JKS files skipped" % e, file=sys.stderr)
    return res


def plan_plants(pl, mat, rng, n_tokens, n_pem_embedded):
    """Attach embedded tokens/PEM blocks to randomly chosen text files."""
    hosts = [f for f in pl.files if f["kind"] in HOSTABLE and f["size"] < 400000]
    chosen = rng.sample(hosts, n_tokens + n_pem_embedded)
    for i, f in enumerate(chosen):
        hk = f["kind"]
        if i < n_tokens:
            kind = TOKEN_KINDS[i % len(TOKEN_KINDS)]
            tok = token(rng, kind)
            snip = token_snippet(rng, kind, tok, hk)
            item = {"kind": "token-" + kind, "detail": tok, "deterministic": True, "count": 1}
        else:
            c, k, chain = mat.leaves[rng.randrange(len(mat.leaves))]
            r = rng.random()
            if r < 0.6:
                pem, what, cnt = pem_cert(c), "pem-certificate", 1
            elif r < 0.85:
                pem, what, cnt = pem_key(k, "pkcs8" if r < 0.75 else "traditional"), "pem-private-key", 1
            else:
                pem, what, cnt = pem_cert(c) + pem_cert(chain[0]), "pem-certificate", 2
            if hk == "yaml" and what == "pem-certificate" and rng.random() < 0.4:
                # Kubernetes Secret: base64 of the PEM, the way kubectl writes it.
                b = base64.b64encode(pem.encode()).decode()
                snip = "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: %s-tls\ndata:\n  tls.crt: %s\n---\n" % (ident(rng), b)
                what = "base64-pem-certificate"
            else:
                snip = pem_embedded(pem, hk, rng.choice(["tls_cert", "ca_cert", "server_key", "client_cert", "signing_key"]))
            item = {"kind": what, "detail": "%s in %s (%s)" % (c.subject.rfc4514_string(), hk, key_type(k)), "deterministic": True, "count": cnt}
        f.setdefault("plants", []).append((snip, item))
    return len(chosen)


# --------------------------------------------------------------------------
# Writing (parallel, one seeded RNG per file so output does not depend on scheduling).
# --------------------------------------------------------------------------

G = {}


def write_one(job):
    idx, f = job
    root, seed = G["root"], G["seed"]
    path = os.path.join(root, f["path"])
    rng = Random("file:%d:%d" % (seed, idx))
    fid = "bench-%d-%016x" % (idx, rng.getrandbits(64))
    lines = []
    if "data" in f:
        data = f["data"]
    elif f["kind"] in BINARY_KINDS:
        data = gen_binary(f["kind"], f["size"], rng, fid)
    else:
        text = gen_text(f["kind"], f["size"], rng, fid, f["path"])
        cut = text.rfind("\n", 0, f["size"])
        if cut > len(text) // 2 and f["kind"] not in ("json", "lock-npm"):
            text = text[:cut + 1]
        for snip, _ in f.get("plants", []):
            # Insert at a line boundary somewhere in the file.
            pos = text.find("\n", rng.randrange(len(text))) + 1 or len(text)
            if f["kind"] in ("json", "lock-npm"):
                pos = text.find("\n") + 1  # after the opening brace keeps the JSON valid
            lines.append(text.count("\n", 0, pos) + 1)
            text = text[:pos] + snip + text[pos:]
        data = text.encode()
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    return idx, len(data), hashlib.blake2b(data, digest_size=16).digest(), lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--size-gb", type=float, default=1.0, help="total bytes, in GiB (default 1.0)")
    ap.add_argument("--files", type=int, default=100000, help="number of files (default 100000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--manifest", help="manifest path (default DIR/../bench-manifest.json)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--force", action="store_true", help="wipe DIR first if it is not empty")
    args = ap.parse_args()
    t0 = time.time()
    root = os.path.abspath(args.dir)
    manifest_path = os.path.abspath(args.manifest or os.path.join(root, "..", "bench-manifest.json"))
    if manifest_path.startswith(root + os.sep):
        sys.exit("the manifest must not be inside the tree")
    if os.path.isdir(root) and os.listdir(root):
        if not args.force:
            sys.exit("%s is not empty (use --force to wipe it)" % root)
        print("wiping %s ..." % root, flush=True)
        shutil.rmtree(root)
        t0 = time.time()  # time the generation, not the wipe
    if os.path.exists(manifest_path):
        os.remove(manifest_path)
    os.makedirs(root, exist_ok=True)

    rng = Random("plant:%d" % args.seed)
    mat = Material(args.seed, n_leaves=120)
    t_mat = time.time() - t0
    projects = plan_projects(args)
    roots = [r for r, _, _ in projects]
    mfiles = build_material_files(mat, rng, roots)
    pl = plan_tree(args, projects, mfiles)
    for m in mfiles:
        pl.add(m["path"], "material", len(m["data"]), data=m["data"], items=m["items"])
    # A file may not have the path of a directory.
    dirs = {p[:i] for p in pl.paths for i in range(len(p)) if p[i] == "/"}
    for f in pl.files:
        if f["path"] in dirs:
            f["path"] = pl.unique(f["path"] + ".bin")
    n_tok = 196  # 28 of each provider
    n_emb = 90
    plan_plants(pl, mat, rng, n_tok, n_emb)
    files = pl.files
    print("planned %d files in %.1fs (key material %.1fs); writing with %d jobs..." % (len(files), time.time() - t0, t_mat, args.jobs), flush=True)

    G["root"], G["seed"] = root, args.seed
    for d in sorted({os.path.dirname(os.path.join(root, f["path"])) for f in files}):
        os.makedirs(d, exist_ok=True)
    total = 0
    digests = {}
    dups = 0
    manifest_items = []
    ctx = mp.get_context("fork")
    with ctx.Pool(args.jobs, initializer=None) as pool:
        done = 0
        for idx, n, dg, lines in pool.imap_unordered(write_one, enumerate(files), chunksize=64):
            total += n
            if dg in digests:
                dups += 1
                print("duplicate content: %s == %s" % (files[idx]["path"], files[digests[dg]]["path"]), file=sys.stderr)
            digests[dg] = idx
            f = files[idx]
            for it in f.get("items", []):
                manifest_items.append({"path": f["path"], **it})
            for (snip, it), line in zip(f.get("plants", []), lines):
                manifest_items.append({"path": f["path"], "line": line, **it})
            done += 1
            if done % 20000 == 0:
                print("  %d files, %.0f MB, %.0fs" % (done, total / MB, time.time() - t0), flush=True)
    manifest_items.sort(key=lambda x: (x["path"], x.get("line", 0)))
    counts = {}
    for it in manifest_items:
        counts[it["kind"]] = counts.get(it["kind"], 0) + it["count"]
    n_nondet = len({it["path"] for it in manifest_items if not it["deterministic"]})
    size_hist = {}
    for lo, hi, label in ((0, 1024, "<1KB"), (1024, 20480, "1-20KB"), (20480, 102400, "20-100KB"),
                          (102400, MB, "100KB-1MB"), (MB, 1 << 62, ">=1MB")):
        size_hist[label] = sum(1 for f in files if lo <= f["size"] < hi)
    summary = {
        "tree": root, "seed": args.seed, "files": len(files), "bytes": total,
        "directories": len({os.path.dirname(f["path"]) for f in files}),
        "projects": len(roots), "duplicate_files": dups, "planted_items": sum(counts.values()),
        "planted_locations": len(manifest_items), "planted_by_kind": dict(sorted(counts.items())),
        "non_deterministic_files": n_nondet, "size_histogram_planned": size_hist,
        "generator_seconds": round(time.time() - t0, 1),
        "kinds": {k: sum(1 for f in files if f["kind"] == k) for k in sorted({f["kind"] for f in files})},
    }
    with open(manifest_path, "w") as fh:
        json.dump({"summary": summary, "items": manifest_items}, fh, indent=1)
    print(json.dumps({k: summary[k] for k in ("planted_by_kind", "size_histogram_planned")}, indent=1))
    print("manifest: %s" % manifest_path)
    print("TOTAL: %d files, %d bytes (%.2f GiB), %d directories, %d planted items in %d places, %d duplicate files, %.1fs"
          % (len(files), total, total / 1024 ** 3, summary["directories"], summary["planted_items"], len(manifest_items), dups,
             time.time() - t0))
    if dups:
        sys.exit(1)


if __name__ == "__main__":
    main()
