#!/usr/bin/env python3
"""gen-tls-compare.py - loopback TLS servers of different configurations, for the side-by-side
comparison of trustmap, sslyze and testssl.sh (BENCHMARKS.md, "TLS endpoints").

Usage:
    scripts/gen-tls-compare.py DIR [FIRST_PORT]      # FIRST_PORT defaults to 21000

Writes into DIR a PKI (root.pem, inter.pem; ECDSA P-256 leaves for cmp.test, one expired,
one for another name) made with the `cryptography` package (sslyze depends on it), a policy
trusting the root (trustmap.toml), start.sh (starts every server in the background on
127.0.0.1, one `openssl s_server` each and one SMTP STARTTLS server from
crates/trustmap/tests/starttls-server.py; their pids in DIR/pids) and servers.txt (PORT NAME
SCHEME DESCRIPTION, one a line). Loopback only.
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NAME = "cmp.test"


def key():
    return ec.generate_private_key(ec.SECP256R1())


def cert(subject, issuer, issuer_key, pub, ca, start, end, san=None):
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def main():
    d = os.path.abspath(sys.argv[1])
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 21000
    os.makedirs(d, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    day = datetime.timedelta(days=1)
    root_k, inter_k, leaf_k = key(), key(), key()
    root = cert("Cmp Root CA", "Cmp Root CA", root_k, root_k.public_key(), True, now - 30 * day, now + 3650 * day)
    inter = cert("Cmp Issuing CA", "Cmp Root CA", root_k, inter_k.public_key(), True, now - 30 * day, now + 1825 * day)
    leaves = {
        "leaf": cert(NAME, "Cmp Issuing CA", inter_k, leaf_k.public_key(), False, now - day, now + 90 * day, NAME),
        "expired": cert(NAME, "Cmp Issuing CA", inter_k, leaf_k.public_key(), False, now - 120 * day, now - 30 * day, NAME),
        "other": cert("other.test", "Cmp Issuing CA", inter_k, leaf_k.public_key(), False, now - day, now + 90 * day, "other.test"),
    }
    with open(f"{d}/root.pem", "wb") as f:
        f.write(pem(root))
    with open(f"{d}/inter.pem", "wb") as f:
        f.write(pem(inter))
    with open(f"{d}/leaf.key", "wb") as f:
        f.write(leaf_k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    for n, c in leaves.items():
        with open(f"{d}/{n}.pem", "wb") as f:
            f.write(pem(c))
    with open(f"{d}/chain.pem", "wb") as f:
        f.write(pem(leaves["leaf"]) + pem(inter))
    with open(f"{d}/trustmap.toml", "w") as f:
        f.write('[trust]\nbundles = ["root.pem"]\n')
    chain = "-cert_chain inter.pem"
    servers = [
        ("modern", "tls", f"-cert leaf.pem {chain}", "TLS 1.2 and 1.3, OpenSSL defaults, complete chain"),
        ("legacy", "tls", f"-cert leaf.pem {chain} -cipher DEFAULT:@SECLEVEL=0", "TLS 1.0 to 1.3 (security level 0)"),
        ("tls10only", "tls", f"-cert leaf.pem {chain} -tls1 -cipher DEFAULT:@SECLEVEL=0", "TLS 1.0 only"),
        ("weak", "tls", f"-cert leaf.pem {chain} -serverpref -cipher ECDHE-ECDSA-NULL-SHA:AECDH-AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0", "NULL, anonymous and CBC-SHA1 suites, server preference"),
        ("expired", "tls", f"-cert expired.pem {chain}", "expired leaf"),
        ("wrongname", "tls", f"-cert other.pem {chain}", "leaf for other.test"),
        ("nointer", "tls", "-cert leaf.pem", "intermediate not served"),
        ("tls13only", "tls", f"-cert leaf.pem {chain} -tls1_3", "TLS 1.3 only"),
        ("smtp", "smtp", "", "SMTP STARTTLS (Python ssl)"),
    ]
    script = os.path.abspath(os.path.join(os.path.dirname(__file__), "../crates/trustmap/tests/starttls-server.py"))
    # s_server's stdin is a FIFO held open read-write by every server (never EOF).
    lines, start = [], ["#!/bin/sh", f"cd {d}", ": > pids", "rm -f stdin.fifo", "mkfifo stdin.fifo", "exec 3<>stdin.fifo"]
    for i, (name, scheme, args, desc) in enumerate(servers):
        port = first + i
        lines.append(f"{port} {name} {scheme} {desc}")
        if scheme == "smtp":
            start.append(f"python3 {script} smtp {port} chain.pem leaf.key >/dev/null 2>&1 & echo $! >> pids")
        else:
            start.append(
                f"openssl s_server -accept 127.0.0.1:{port} -key leaf.key {args} -quiet <&3 >/dev/null 2>&1 & echo $! >> pids"
            )
    with open(f"{d}/servers.txt", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(f"{d}/start.sh", "w") as f:
        f.write("\n".join(start) + "\n")
    os.chmod(f"{d}/start.sh", 0o755)
    print(f"{d}: {len(servers)} servers from port {first}; sh {d}/start.sh starts them, kill $(cat {d}/pids) stops them")


if __name__ == "__main__":
    main()
