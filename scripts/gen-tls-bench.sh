#!/usr/bin/env bash
# gen-tls-bench.sh - one nginx on 127.0.0.1 listening on N TLS ports, for the endpoint benchmark
# (BENCHMARKS.md, "TLS endpoints").
#
# Usage:
#   scripts/gen-tls-bench.sh DIR [N] [FIRST_PORT]    # N defaults to 1000, FIRST_PORT to 20000
#
# Writes into DIR: a P-256 certificate for bench.test (cert.pem, key.pem, openssl), nginx.conf
# with N `listen 127.0.0.1:PORT ssl;` lines in one server block (TLS 1.2 and 1.3, nginx's
# defaults otherwise), and targets.txt (`127.0.0.1:PORT bench.test`, one a line) for
# `trustmap scan --targets`. Then run nginx in the foreground:
#
#   nginx -p DIR -c DIR/nginx.conf -g "daemon off; pid DIR/nginx.pid;"
#
# Loopback only: nothing else is ever listened on or reached.
set -euo pipefail
dir=${1:?usage: gen-tls-bench.sh DIR [N] [FIRST_PORT]}
n=${2:-1000}
first=${3:-20000}
mkdir -p "$dir/logs"
dir=$(cd "$dir" && pwd)
if [ ! -f "$dir/cert.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
        -subj /CN=bench.test -addext subjectAltName=DNS:bench.test \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
fi
{
    echo "worker_processes 2;"
    echo "error_log $dir/logs/error.log;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  access_log off;"
    echo "  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;"
    echo "  uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;"
    echo "  server {"
    for ((p = first; p < first + n; p++)); do
        echo "    listen 127.0.0.1:$p ssl;"
    done
    echo "    server_name bench.test;"
    echo "    ssl_certificate $dir/cert.pem;"
    echo "    ssl_certificate_key $dir/key.pem;"
    echo "    ssl_protocols TLSv1.2 TLSv1.3;"
    echo "    location / { return 204; }"
    echo "  }"
    echo "}"
} > "$dir/nginx.conf"
mkdir -p "$dir/tmp"
: > "$dir/targets.txt"
for ((p = first; p < first + n; p++)); do
    echo "127.0.0.1:$p bench.test" >> "$dir/targets.txt"
done
echo "$dir/nginx.conf: $n ports from $first; targets in $dir/targets.txt"
