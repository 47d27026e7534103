#!/usr/bin/env python3
"""A STARTTLS server for the TLS tests: the plaintext greeting and STARTTLS exchange of
SMTP, IMAP, POP3 or LDAP, then a real TLS handshake by Python's ssl module (OpenSSL), on
127.0.0.1 only.

    starttls-server.py PROTO PORT CHAIN KEY [--refuse] [--tls1_2]

PROTO is smtp, imap, pop3 or ldap; CHAIN the PEM served (leaf first, then intermediates);
--refuse answers STARTTLS with the protocol's refusal (and SMTP's EHLO does not offer it);
--tls1_2 caps the server at TLS 1.2. Every connection is served on its own thread; after
the handshake the server waits for the client to close.
"""
import socket
import ssl
import sys
import threading


def lines(f):
    """Lines from the client, without CR LF (at most 64, 1 KiB each)."""
    for _ in range(64):
        line = f.readline(1024)
        if not line:
            return
        yield line.rstrip(b"\r\n")


def smtp(conn, f, refuse):
    conn.sendall(b"220 mail.example.test ESMTP trustmap-test\r\n")
    for line in lines(f):
        verb = line.split(b" ")[0].upper()
        if verb == b"EHLO":
            caps = [b"mail.example.test", b"SIZE 10240000", b"8BITMIME"]
            if not refuse:
                caps.append(b"STARTTLS")
            out = b"".join(b"250-" + c + b"\r\n" for c in caps[:-1])
            conn.sendall(out + b"250 " + caps[-1] + b"\r\n")
        elif verb == b"STARTTLS":
            if refuse:
                conn.sendall(b"502 5.5.1 STARTTLS not available\r\n")
                continue
            conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
            return True
        elif verb == b"QUIT":
            conn.sendall(b"221 2.0.0 Bye\r\n")
            return False
        else:
            conn.sendall(b"502 5.5.2 Error: command not recognized\r\n")
    return False


def imap(conn, f, refuse):
    conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] trustmap-test ready\r\n")
    for line in lines(f):
        parts = line.split(b" ")
        tag = parts[0]
        cmd = parts[1].upper() if len(parts) > 1 else b""
        if cmd == b"STARTTLS":
            if refuse:
                conn.sendall(tag + b" BAD STARTTLS not supported\r\n")
                continue
            conn.sendall(tag + b" OK Begin TLS negotiation now\r\n")
            return True
        conn.sendall(tag + b" BAD unknown command\r\n")
    return False


def pop3(conn, f, refuse):
    conn.sendall(b"+OK trustmap-test POP3 ready\r\n")
    for line in lines(f):
        if line.upper() == b"STLS":
            if refuse:
                conn.sendall(b"-ERR STLS not supported\r\n")
                continue
            conn.sendall(b"+OK Begin TLS negotiation\r\n")
            return True
        conn.sendall(b"-ERR unknown command\r\n")
    return False


def ldap(conn, f, refuse):
    head = f.read(2)
    if len(head) < 2 or head[0] != 0x30 or head[1] >= 0x80:
        return False
    body = f.read(head[1])
    if b"1.3.6.1.4.1.1466.20037" not in body:
        return False
    msgid = body[2]
    code = 2 if refuse else 0  # protocolError, success
    resp = bytes([0x02, 0x01, msgid, 0x78, 0x07, 0x0A, 0x01, code, 0x04, 0x00, 0x04, 0x00])
    conn.sendall(bytes([0x30, len(resp)]) + resp)
    return not refuse


PROTOS = {"smtp": smtp, "imap": imap, "pop3": pop3, "ldap": ldap}


def serve(conn, proto, ctx, refuse):
    try:
        conn.settimeout(10)
        # Unbuffered reads, so nothing of the ClientHello is taken by the line reader.
        f = conn.makefile("rb", buffering=0)
        if not PROTOS[proto](conn, f, refuse):
            return
        tls = ctx.wrap_socket(conn, server_side=True)
        while tls.recv(1024):
            pass
    except (OSError, ssl.SSLError, ValueError, IndexError):
        pass
    finally:
        conn.close()


def main():
    proto, port, chain, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    refuse = "--refuse" in sys.argv[5:]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    if "--tls1_2" in sys.argv[5:]:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, proto, ctx, refuse), daemon=True).start()


if __name__ == "__main__":
    main()
