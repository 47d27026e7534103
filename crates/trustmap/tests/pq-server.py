#!/usr/bin/env python3
"""A TLS server with post-quantum key exchange for the TLS tests: pyOpenSSL on the OpenSSL
that the `cryptography` wheel bundles (3.5 or later, whose default groups put the hybrid
X25519MLKEM768 first; Debian 12's system OpenSSL 3.0 has no ML-KEM), on 127.0.0.1 only.

    pq-server.py PORT CHAIN KEY [--flood]

Prints the OpenSSL version on its first line, then, for every completed handshake, one line
`group NAME` with the key-exchange group OpenSSL negotiated, so a test can check the server's
side of the handshake as well as the client's. Every connection is served on its own thread;
after the handshake the server waits for the client to close (at most 10 s), or with --flood
sends application data without end until the client goes away.
"""
import socket
import struct
import sys
import threading

from OpenSSL import SSL

port, chain, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
flood = "--flood" in sys.argv[4:]
ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
ctx.use_certificate_chain_file(chain)
ctx.use_privatekey_file(key)
print(SSL.OpenSSL_version(SSL.OPENSSL_VERSION).decode(), flush=True)
lock = threading.Lock()


def serve(sock):
    # A blocking socket with a receive timeout (not settimeout, which makes the socket
    # non-blocking underneath and OpenSSL then stops at the first partial read).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 10, 0))
    conn = SSL.Connection(ctx, sock)
    conn.set_accept_state()
    try:
        conn.do_handshake()
        with lock:
            print("group", conn.get_group_name(), flush=True)
        if flood:
            chunk = b"x" * 16384
            while True:
                conn.sendall(chunk)
        conn.recv(1)
    except Exception:
        # Probes end at the server's first flight; a closed connection is not an error here.
        pass
    finally:
        sock.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(64)
while True:
    s, _ = listener.accept()
    threading.Thread(target=serve, args=(s,), daemon=True).start()
