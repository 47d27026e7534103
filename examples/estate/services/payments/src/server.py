"""payments-api: HTTPS entry point (demo code, not a real service)."""
import os
import ssl
from http.server import HTTPServer, BaseHTTPRequestHandler

CERT = os.environ.get("TLS_CERT_FILE", "/etc/payments/tls/fullchain.pem")
KEY = os.environ.get("TLS_KEY_FILE", "/etc/payments/tls/server.key")


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(CERT, KEY)
    httpd = HTTPServer(("0.0.0.0", 8443), Health)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
