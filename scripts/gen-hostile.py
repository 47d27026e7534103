#!/usr/bin/env python3
"""Writes the hostile input shapes of issue 14 ("no single file can stall or bloat a scan",
"nothing is missed silently") into DIR, one subdirectory per shape, so each can be scanned
and timed on its own (see BENCHMARKS.md, "Hostile input").

    scripts/gen-hostile.py DIR                 # every shape, at the sizes of the issue
    scripts/gen-hostile.py DIR --only jks-pbkdf2,pem-1m
    scripts/gen-hostile.py DIR --scale 0.1     # counts and sizes scaled down

Needs `cryptography` (python3 -m pip install cryptography) for the certificates. Nothing
here is a real secret: keys are generated on the spot, tokens are filler.
"""

import argparse
import hashlib
import os
import shutil
import struct
import zlib
from datetime import datetime, timedelta, timezone

SHAPES = [
    "jks-pbkdf2",
    "p12-pbkdf2",
    "issuer-same-subject",
    "same-cert-160k",
    "same-cert-200k-files",
    "pem-begin-no-end",
    "pem-begin-foo",
    "k8s-nested",
    "akia-line",
    "zip-bad-crc",
    "pem-boundary",
    "pem-1m",
    "silent",
]

# --- DER --------------------------------------------------------------------------------


def der(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([tag, n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([tag, 0x80 | len(b)]) + b
    return head + content


def seq(*parts):
    return der(0x30, b"".join(parts))


def integer(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return der(0x02, b)


def octets(b):
    return der(0x04, b)


def oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(enc))
    return der(0x06, out)


def pbes2_epki(iterations, seed):
    """An EncryptedPrivateKeyInfo under PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) whose
    ciphertext is filler: every password tried costs a full KDF run, none opens it."""
    salt = hashlib.sha256(b"salt" + seed).digest()[:16]
    iv = hashlib.sha256(b"iv" + seed).digest()[:16]
    kdf = seq(
        oid("1.2.840.113549.1.5.12"),
        seq(octets(salt), integer(iterations), seq(oid("1.2.840.113549.2.9"), b"\x05\x00")),
    )
    enc = seq(oid("2.16.840.1.101.3.4.1.42"), octets(iv))
    alg = seq(oid("1.2.840.113549.1.5.13"), seq(kdf, enc))
    return seq(alg, octets(hashlib.sha512(seed).digest()))


# --- certificates -------------------------------------------------------------------------


def certs():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile.example.test")])
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def make(serial):
        c = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        return c.public_bytes(serialization.Encoding.PEM)

    return make


# --- shapes -------------------------------------------------------------------------------


def jks_pbkdf2(d, scale):
    """A JKS of 100 key entries, each a PBES2 EncryptedPrivateKeyInfo at 200,000 PBKDF2
    iterations; the store password is "changeit", so every entry is tried with it and with
    every other default password (issue: 12 KB, killed after 100 s)."""
    n = max(1, int(100 * scale))
    body = struct.pack(">III", 0xFEEDFEED, 2, n)
    for i in range(n):
        alias = f"key{i}".encode()
        blob = pbes2_epki(200_000, str(i).encode())
        body += struct.pack(">I", 1) + struct.pack(">H", len(alias)) + alias
        body += struct.pack(">Q", 0) + struct.pack(">I", len(blob)) + blob
        body += struct.pack(">I", 0)  # no certificate chain
    pw = "changeit".encode("utf-16-be")
    body += hashlib.sha1(pw + b"Mighty Aphrodite" + body).digest()
    open(os.path.join(d, "store.jks"), "wb").write(body)


def pkcs12_kdf(password, salt, iterations, id_byte, length):
    v, u = 64, 20
    pw = (password.encode("utf-16-be") + b"\0\0") if password is not None else b""

    def fill(s):
        if not s:
            return b""
        n = v * ((len(s) + v - 1) // v)
        return (s * (n // len(s) + 1))[:n]

    i_buf = bytearray(fill(salt) + fill(pw))
    d = bytes([id_byte]) * v
    out = b""
    while len(out) < length:
        a = hashlib.sha1(d + bytes(i_buf)).digest()
        for _ in range(1, iterations):
            a = hashlib.sha1(a).digest()
        b = (a * (v // u + 1))[:v]
        for j in range(0, len(i_buf), v):
            chunk = int.from_bytes(i_buf[j : j + v], "big") + int.from_bytes(b, "big") + 1
            i_buf[j : j + v] = (chunk & ((1 << (8 * v)) - 1)).to_bytes(v, "big")
        out += a
    return out[:length]


def p12_pbkdf2(d, scale):
    """A PKCS#12 whose MAC opens with "changeit" (2,048 iterations), holding 100 shrouded
    key bags at 200,000 PBKDF2 iterations each (issue: 0.14 s per bag once opened)."""
    import hmac

    n = max(1, int(100 * scale))
    bags = []
    for i in range(n):
        bags.append(seq(oid("1.2.840.113549.1.12.10.1.2"), der(0xA0, pbes2_epki(200_000, b"p12-%d" % i))))
    safe = seq(*bags)
    auth_safe = seq(seq(oid("1.2.840.113549.1.7.1"), der(0xA0, octets(safe))))
    salt = b"hostile!"
    key = pkcs12_kdf("changeit", salt, 2048, 3, 20)
    mac = hmac.new(key, auth_safe, "sha1").digest()
    mac_data = seq(seq(seq(oid("1.3.14.3.2.26"), b"\x05\x00"), octets(mac)), octets(salt), integer(2048))
    pfx = seq(integer(3), seq(oid("1.2.840.113549.1.7.1"), der(0xA0, octets(auth_safe))), mac_data)
    open(os.path.join(d, "store.p12"), "wb").write(pfx)


def issuer_same_subject(d, scale):
    """1,000 self-signed certificates with one subject and one key in one file: every pair
    verifies (issue: 60 s, 491 MB, 999,000 relations)."""
    make = certs()
    n = max(2, int(1000 * scale))
    with open(os.path.join(d, "bundle.pem"), "wb") as f:
        for i in range(n):
            f.write(make(1000 + i))


def same_cert_160k(d, scale):
    """The same certificate 160,000 times in one file (issue: 61 s)."""
    pem = certs()(7)
    n = max(1, int(160_000 * scale))
    with open(os.path.join(d, "repeated.pem"), "wb") as f:
        f.write(pem * n)


def same_cert_200k_files(d, scale):
    """200,000 tiny files, each holding the same certificate (issue: 76 s)."""
    pem = certs()(8)
    n = max(1, int(200_000 * scale))
    for i in range(n):
        sub = os.path.join(d, f"{i // 1000:03d}")
        if i % 1000 == 0:
            os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"{i}.pem"), "wb") as f:
            f.write(pem)


def pem_begin(d, scale, label):
    """32 MB of BEGIN lines, each followed by two base64 lines and never an END line
    (issue: 174 s and 675 MB for CERTIFICATE; an unknown label slower still and silent)."""
    unit = f"-----BEGIN {label}-----\n".encode() + (b"QUJD" * 16 + b"\n") * 2
    size = max(len(unit), int((32 << 20) * scale))
    with open(os.path.join(d, f"begin-{label.lower()}.pem"), "wb") as f:
        f.write(unit * (size // len(unit)))


def k8s_nested(d, scale):
    """200 KB that looks like a Kubernetes manifest: a ConfigMap whose data holds thousands
    of keys, each with a nested block under it (issue: quadratic, 200 KB took 39 s)."""
    size = max(4096, int(200_000 * scale))
    out = ["apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nested\ndata:\n"]
    total = sum(map(len, out))
    i = 0
    while total < size:
        entry = f"  k{i}: |\n    a:\n      b:\n        c: {i}\n"
        out.append(entry)
        total += len(entry)
        i += 1
    open(os.path.join(d, "manifest.yaml"), "w").write("".join(out))


def akia_line(d, scale):
    """One 32 MB line of the keyword `AKIA` (issue: ~1.75 s per MB, 57 s)."""
    size = max(4, int((32 << 20) * scale))
    with open(os.path.join(d, "akia.txt"), "wb") as f:
        f.write(b"AKIA" * (size // 4) + b"\n")


def zip_bad_crc(d, scale):
    """A ~1 MB zip whose 20,000 central-directory entries all point at one member that
    inflates to 32 MB and fails its CRC check (issue: 108 s)."""
    n = max(2, int(20_000 * scale))
    raw = b"\0" * (32 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(raw) + comp.flush()
    name = b"m"
    bad_crc = (zlib.crc32(raw) ^ 0xFFFFFFFF) & 0xFFFFFFFF
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, bad_crc, len(data), len(raw), len(name), 0)
    out = bytearray(local + name + data)
    cd = bytearray()
    for i in range(n):
        nm = f"e{i:05d}".encode()
        cd += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50, 20, 20, 0, 8, 0, 0, bad_crc, len(data), len(raw), len(nm), 0, 0, 0, 0, 0, 0,
        ) + nm
    cd_off = len(out)
    out += cd
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF), len(cd), cd_off, 0)
    open(os.path.join(d, "bad-crc.zip"), "wb").write(out)


def pem_boundary(d, scale):
    """A 40 MB file (over the 32 MiB part size) of filler lines with a valid certificate
    every ~64 KB, one of them straddling the part boundary, and a truncated block near the
    end: every certificate must be found once, on its real line, with no false errors."""
    pem = certs()(9)
    filler = b"# filler line that holds nothing of interest at all....\n"
    size = max(1 << 20, int((40 << 20) * scale))
    with open(os.path.join(d, "big.pem"), "wb") as f:
        written = 0
        chunk = 32 << 20
        while written < size - 4096:
            block = filler * 1100 + pem
            if written < chunk <= written + len(block) and size > chunk:
                # Lead up to the part boundary so this certificate straddles it.
                lead = filler * ((chunk - written - 200) // len(filler))
                block = lead + pem
            f.write(block)
            written += len(block)
        f.write(b"-----BEGIN CERTIFICATE-----\nQUJD\n")


def pem_1m(d, scale):
    """1,000,000 identical valid PEM blocks in one file (issue: killed at 600 s, 1.7 GB)."""
    pem = certs()(10)
    n = max(1, int(1_000_000 * scale))
    with open(os.path.join(d, "million.pem"), "wb") as f:
        step = 10_000
        for i in range(0, n, step):
            f.write(pem * min(step, n - i))


def silent(d, scale):
    """What used to end as neither an asset nor an error: a corrupted DER certificate, a
    truncated PKCS#12, a zip of 20,001 members, archives nested five deep, and a FIFO (scan
    it as a root: `trustmap scan silent/fifo`)."""
    import io
    import zipfile

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pem = certs()(11)
    der_bytes = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    # The serial number onwards overwritten: still one SEQUENCE shaped like a certificate
    # (outer and tbs headers, the [0] version), but no longer a certificate.
    bad = bytearray(der_bytes)
    for i in range(13, 33):
        bad[i] = 0xFF
    open(os.path.join(d, "corrupt.der"), "wb").write(bad)
    p12 = os.path.join(d, "truncated.p12")
    os.makedirs(d, exist_ok=True)
    # A real PKCS#12 (openssl), cut in half.
    tmp = os.path.join(d, ".tmp")
    os.makedirs(tmp, exist_ok=True)
    open(os.path.join(tmp, "c.pem"), "wb").write(pem)
    rc = os.system(
        f"cd {tmp} && openssl ecparam -name prime256v1 -genkey -noout -out k.pem 2>/dev/null && "
        "openssl req -x509 -key k.pem -subj /CN=trunc -days 30 -out kc.pem 2>/dev/null && "
        "openssl pkcs12 -export -inkey k.pem -in kc.pem -passout pass:changeit -out full.p12 2>/dev/null"
    )
    if rc == 0:
        full = open(os.path.join(tmp, "full.p12"), "rb").read()
        open(p12, "wb").write(full[: len(full) // 2])
    shutil.rmtree(tmp)
    many = max(2, int(20_001 * scale))
    with zipfile.ZipFile(os.path.join(d, "many.zip"), "w", zipfile.ZIP_STORED) as z:
        for i in range(many - 1):
            z.writestr(f"f{i}.txt", b"x")
        z.writestr("last.pem", pem)
    inner = pem
    name = "cert.pem"
    for level in range(5):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr(name, inner)
        inner, name = buf.getvalue(), f"level{level}.zip"
    open(os.path.join(d, "nested.zip"), "wb").write(inner)
    fifo = os.path.join(d, "fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--only", default="", help="comma-separated shapes (default: all)")
    ap.add_argument("--scale", type=float, default=1.0, help="scale counts and sizes")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s] or SHAPES
    for s in only:
        if s not in SHAPES:
            raise SystemExit(f"unknown shape {s!r}; known: {', '.join(SHAPES)}")
    for s in only:
        d = os.path.join(args.dir, s)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
        f = {
            "jks-pbkdf2": jks_pbkdf2,
            "p12-pbkdf2": p12_pbkdf2,
            "issuer-same-subject": issuer_same_subject,
            "same-cert-160k": same_cert_160k,
            "same-cert-200k-files": same_cert_200k_files,
            "pem-begin-no-end": lambda d, sc: pem_begin(d, sc, "CERTIFICATE"),
            "pem-begin-foo": lambda d, sc: pem_begin(d, sc, "FOO"),
            "k8s-nested": k8s_nested,
            "akia-line": akia_line,
            "zip-bad-crc": zip_bad_crc,
            "pem-boundary": pem_boundary,
            "pem-1m": pem_1m,
            "silent": silent,
        }[s]
        f(d, args.scale)
        print(f"{s}: {d}")


if __name__ == "__main__":
    main()
