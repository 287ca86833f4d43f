#!/usr/bin/env bash
# h2peers.sh — benchgate's HTTP/2 path beside h2load on one nginx with
# http2 on (TLS, self-signed), same run: 1 connection × 32 streams and
# 8 connections × 32 streams. nginx pinned to the last CPU, the tool to
# CPU 0; requests counted by nginx; rounds interleaved, medians printed.
#
#   bench/h2peers.sh [-n REQUESTS] [-r ROUNDS]
set -euo pipefail
N=200000; ROUNDS=3
while getopts "n:r:h" o; do case $o in n) N=$OPTARG;; r) ROUNDS=$OPTARG;; *) sed -n 2,8p "$0"; exit 2;; esac; done
need() { command -v "$1" >/dev/null 2>&1; }
missing=()
need nginx || missing+=(nginx-light)
need h2load || missing+=(nghttp2-client)
need openssl || missing+=(openssl)
need curl || missing+=(curl)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1 \
    || { echo "could not install ${missing[*]}" >&2; exit 1; }
fi
root=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d); PORT=$((20000 + RANDOM % 20000)); URL="https://127.0.0.1:$PORT/body.txt"
cleanup() { [ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/www" "$W/logs"
head -c 600 /dev/zero | tr '\0' 'x' > "$W/www/body.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1
cat > "$W/nginx.conf" <<CONF
worker_processes 1; daemon on; pid $W/nginx.pid; error_log $W/logs/error.log;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 10000000; keepalive_timeout 60;
  server { listen 127.0.0.1:$PORT ssl http2 backlog=8192; http2_max_concurrent_streams 256;
           ssl_certificate $W/cert.pem; ssl_certificate_key $W/key.pem; root $W/www;
           location = /status { stub_status; } } }
CONF
CPUS=$(nproc); GEN_PIN=""; SRV_PIN=""
if [ "$CPUS" -ge 2 ]; then GEN_PIN="taskset -c 0"; SRV_PIN="taskset -c $((CPUS-1))"; fi
$SRV_PIN nginx -c "$W/nginx.conf"
for _ in $(seq 50); do curl -kfs --http2 -o /dev/null "$URL" && break; sleep 0.1; done
(cd "$root" && go build -o "$W/benchgate" ./cmd/benchgate)
served() { curl -kfs "https://127.0.0.1:$PORT/status" | awk 'NR==3{print $3}'; }
cmd() { # tool conns
  case $1 in
    ours)   echo "$W/benchgate ab ${OURS_FLAGS:-} -q -k -n $N -c $(( $2 * 32 )) --http2 --h2-conns $2 --cacert $W/cert.pem $URL";;
    h2load) echo "h2load -n $N -c $2 -m 32 -t 1 $URL";;
  esac
}
declare -A RPS CPU
for conns in 1 8; do
  for round in $(seq "$ROUNDS"); do
    for tool in ours h2load; do
      before=$(served)
      /usr/bin/time -f "%e %U %S" -o "$W/time" $GEN_PIN $(cmd $tool $conns) >"$W/out" 2>&1 || { echo "$tool failed:"; cat "$W/out"; exit 1; }
      after=$(served); reqs=$((after - before - 1))
      read -r el us sy < "$W/time"
      rps=$(awk -v r="$reqs" -v e="$el" 'BEGIN{printf "%.0f", r/e}')
      cpu=$(awk -v r="$reqs" -v u="$us" -v s="$sy" 'BEGIN{printf "%.2f", (u+s)*1e6/r}')
      RPS[$tool,$conns]+="$rps "; CPU[$tool,$conns]+="$cpu "
      echo "round $round conns $conns $tool: $reqs requests, $rps req/s, $cpu µs CPU/req" >&2
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
printf "%-8s %6s %10s %12s\n" tool conns req/s "cpu_us/req"
for conns in 1 8; do
  for tool in ours h2load; do
    printf "%-8s %6s %10s %12s\n" $tool "${conns}x32" "$(echo ${RPS[$tool,$conns]} | median)" "$(echo ${CPU[$tool,$conns]} | median)"
  done
  echo "ratio ${conns}x32: $(awk -v a="$(echo ${RPS[ours,$conns]} | median)" -v b="$(echo ${RPS[h2load,$conns]} | median)" 'BEGIN{printf "%.2f", a/b}')× h2load req/s"
done
