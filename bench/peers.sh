#!/usr/bin/env bash
# bench/peers.sh: `benchgate ab` beside wrk, ab, h2load and hey, each
# loading the same nginx on loopback, in one run.
#
#   bench/peers.sh [-n REQUESTS] [-c CONNECTIONS] [-r ROUNDS] [-b BODY_BYTES] [-t "TOOLS"]
#
# How it measures, so that the figures mean the same for every tool:
#   - nginx counts the requests it served (stub_status); a tool's own
#     report is never used. req/s = served / the tool's wall time.
#   - CPU per request = the tool's user+sys seconds (GNU time) / served.
#   - RSS = the tool's peak resident memory (GNU time).
#   - With two or more CPUs, nginx runs on the last CPU and the tool on
#     CPU 0, so they do not compete for a core.
#   - Rounds are interleaved (tool A, B, C, then A, B, C again) so that a
#     slow minute on a shared machine hits every tool; the median round of
#     each tool is reported, and ratios are ours / peer within this run.
# Missing tools are installed from Debian's packages when possible.
# The last line reads: RESULT ours_rps=… ratio_rps_vs_<tool>=… ratio_cpu_vs_<tool>=… ratio_rss_vs_<tool>=…
set -euo pipefail

requests=200000 conns=32 rounds=3 body=600 tools="ours wrk ab h2load hey"
while getopts "n:c:r:b:t:h" opt; do
	case $opt in
	n) requests=$OPTARG ;; c) conns=$OPTARG ;; r) rounds=$OPTARG ;;
	b) body=$OPTARG ;; t) tools=$OPTARG ;; *) sed -n 2,18p "$0"; exit 2 ;;
	esac
done

repo=$(cd "$(dirname "$0")/.." && pwd)
declare -A pkg=([nginx]=nginx-light [ab]=apache2-utils [wrk]=wrk [h2load]=nghttp2-client [hey]=hey [curl]=curl)
want=()
for cmd in nginx curl $tools; do
	[ "$cmd" = ours ] && continue
	command -v "$cmd" >/dev/null || want+=("${pkg[$cmd]}")
done
[ -x /usr/bin/time ] || want+=(time)
command -v bc >/dev/null || want+=(bc)
if [ ${#want[@]} -gt 0 ]; then
	echo "installing ${want[*]}" >&2
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}"; } >/dev/null 2>&1 ||
		{ echo "cannot install ${want[*]}" >&2; exit 1; }
fi

tmp=$(mktemp -d)
port=$((21000 + RANDOM % 20000))
target="http://127.0.0.1:$port/page"
stop() { [ -s "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null; rm -rf "$tmp"; }
trap stop EXIT

mkdir -p "$tmp/root" "$tmp/log"
head -c "$body" /dev/zero | tr '\0' 'b' >"$tmp/root/page"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1; daemon on; pid $tmp/nginx.pid; error_log $tmp/log/error.log;
events { worker_connections 16384; }
http {
  access_log off; keepalive_timeout 120; keepalive_requests 1000000000;
  server { listen 127.0.0.1:$port backlog=16384; root $tmp/root;
           location = /nginx_status { stub_status; } }
}
EOF
server_pin="" tool_pin=""
if [ "$(nproc)" -ge 2 ]; then server_pin="taskset -c $(($(nproc) - 1))" tool_pin="taskset -c 0"; fi
$server_pin nginx -c "$tmp/nginx.conf"
for _ in $(seq 100); do curl -fso /dev/null "$target" && break; sleep 0.05; done

served() { curl -fs "http://127.0.0.1:$port/nginx_status" | awk 'NR == 3 { print $3 }'; }

(cd "$repo" && go build -o "$tmp/benchgate" ./cmd/benchgate)
command_of() {
	case $1 in
	ours) echo "$tmp/benchgate ab -q -k -n $requests -c $conns $target" ;;
	ab) echo "ab -q -k -n $requests -c $conns $target" ;;
	wrk) echo "wrk -t1 -c$conns -d$((requests / 40000 + 2))s $target" ;; # wrk runs for a time, not a count
	h2load) echo "h2load --h1 -n $requests -c $conns $target" ;;
	hey) echo "hey -n $requests -c $conns $target" ;;
	*) echo "no such tool: $1" >&2; exit 2 ;;
	esac
}

declare -A rps cpu rss
for round in $(seq "$rounds"); do
	for tool in $tools; do
		before=$(served)
		start=$(date +%s.%N)
		$tool_pin /usr/bin/time -f "%U %S %M" -o "$tmp/time" $(command_of "$tool") >/dev/null 2>"$tmp/err" ||
			{ echo "$tool failed:" >&2; cat "$tmp/err" >&2; exit 1; }
		end=$(date +%s.%N)
		after=$(served)
		n=$((after - before - 1)) # the status request itself
		read -r user sys kb <"$tmp/time"
		rps[$tool]+="$(echo "$n / ($end - $start)" | bc -l) "
		cpu[$tool]+="$(echo "($user + $sys) * 1000000 / $n" | bc -l) "
		rss[$tool]+="$(echo "$kb / 1024" | bc -l) "
		printf 'round %d %-7s %10.0f req/s %6.2f µs CPU/req %7.1f MB  (%d served)\n' "$round" "$tool" \
			"$(echo "$n / ($end - $start)" | bc -l)" "$(echo "($user + $sys) * 1000000 / $n" | bc -l)" \
			"$(echo "$kb / 1024" | bc -l)" "$n" >&2
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-8s %10s %12s %8s   (n=%d c=%d body=%dB rounds=%d cpus=%d)\n' tool req/s "µs CPU/req" "RSS MB" \
	"$requests" "$conns" "$body" "$rounds" "$(nproc)"
result=""
declare -A m_rps m_cpu m_rss
for tool in $tools; do
	m_rps[$tool]=$(echo "${rps[$tool]}" | median)
	m_cpu[$tool]=$(echo "${cpu[$tool]}" | median)
	m_rss[$tool]=$(echo "${rss[$tool]}" | median)
	printf '%-8s %10.0f %12.2f %8.1f\n' "$tool" "${m_rps[$tool]}" "${m_cpu[$tool]}" "${m_rss[$tool]}"
done
if [[ " $tools " == *" ours "* ]]; then
	result="ours_rps=$(printf %.0f "${m_rps[ours]}") ours_cpu_us=$(printf %.2f "${m_cpu[ours]}") ours_rss_mb=$(printf %.1f "${m_rss[ours]}")"
	for tool in $tools; do
		[ "$tool" = ours ] && continue
		result+=" ratio_rps_vs_$tool=$(printf %.2f "$(echo "${m_rps[ours]} / ${m_rps[$tool]}" | bc -l)")"
		result+=" ratio_cpu_vs_$tool=$(printf %.2f "$(echo "${m_cpu[ours]} / ${m_cpu[$tool]}" | bc -l)")"
		result+=" ratio_rss_vs_$tool=$(printf %.2f "$(echo "${m_rss[ours]} / ${m_rss[$tool]}" | bc -l)")"
	done
	echo "RESULT $result"
fi
