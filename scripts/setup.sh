#!/usr/bin/env bash
# Sets FlowTrack up on a fresh Debian or Ubuntu machine: the system tools it drives, its npm
# packages and its build. Safe to run again: it installs only what is missing.
#
#   scripts/setup.sh          what `flowtrack` needs (tcpdump for live capture)
#   scripts/setup.sh --test   plus the reference tools the tests and benchmarks compare against
#                             (tshark/capinfos/editcap, argus, softflowd, nfdump) and the tools
#                             the live attack tests run (ip, nmap, hping3, iperf3, curl)
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=false
[[ "${1:-}" == "--test" ]] && with_tests=true

node_ok() {
  command -v node >/dev/null &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}
if ! node_ok; then
  echo "setup: FlowTrack needs Node.js 20.19 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "setup: install it from your distribution or nodejs.org, then run this script again." >&2
  exit 1
fi

# command -> Debian package
# g++, make and python3 build better-sqlite3 (the SQLite store) where npm finds no prebuilt binary.
# nft: the firewall backend (respond/nftables-firewall.ts).
declare -A tools=([tcpdump]=tcpdump [nft]=nftables [g++]=g++ [make]=make [python3]=python3)
if $with_tests; then
  tools+=([tshark]=tshark [capinfos]=wireshark-common [editcap]=wireshark-common [argus]=argus-server
    [softflowd]=softflowd [nfpcapd]=nfdump)
  # Live attack tests: traffic between network namespaces (test/live-attacks-netns.test.ts).
  tools+=([ip]=iproute2 [nmap]=nmap [hping3]=hping3 [iperf3]=iperf3 [curl]=curl [setpriv]=util-linux)
  # Live capture benchmark: a capture replayed over a veth pair (bench/live-bench.mjs).
  tools+=([tcpreplay]=tcpreplay)
  # Flow formats (test/netflow-*.test.ts, bench/collector-bench.mjs): real NetFlow/IPFIX exporters
  # reading a capture (softflowd above, pmacct's pmacctd) and nfdump's collector nfcapd.
  tools+=([pmacctd]=pmacct [nfcapd]=nfdump)
  # Sensors and hub (test/hub-sensors-netns.test.ts): a nats-server with JetStream of the test's own.
  tools+=([nats-server]=nats-server)
  # Firewall conformance tests (test/helpers/firewall-suite.ts): nftables and the iptables and
  # ipset fallback, and ping to see a blocked source's packets stop.
  tools+=([iptables]=iptables [ip6tables]=iptables [ipset]=ipset [ping]=iputils-ping)
  # Store tests against PostgreSQL: backups of a PostgreSQL store go through pg_dump.
  tools+=([pg_dump]=postgresql-client [psql]=postgresql-client)
  # Port scanner tests (test/scan-*.test.ts, bench/scan-bench.mjs): real services to identify and
  # scan (dnsmasq-base: the binary without a system daemon), masscan as a reference.
  tools+=([redis-server]=redis-server [memcached]=memcached [dnsmasq]=dnsmasq-base [snmpd]=snmpd
    [openssl]=openssl [masscan]=masscan)
  # Dashboard end-to-end tests (test/dashboard-e2e.test.ts): playwright-core drives Debian's Chromium.
  tools+=([chromium]=chromium)
fi
missing=()
for tool in "${!tools[@]}"; do
  command -v "$tool" >/dev/null || [[ -x "/usr/sbin/$tool" ]] || missing+=("${tools[$tool]}")
done
# /metrics tests (test/metrics-prometheus.test.ts) parse the text with the Prometheus project's
# own Python client, an independent parser of the format.
if $with_tests && ! /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
  missing+=(python3-prometheus-client)
fi
if ((${#missing[@]} > 0)); then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "setup: installing Debian packages: $packages"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $packages >/dev/null
fi

echo "setup: installing npm packages"
# `npm install` honours package-lock.json. Not `npm ci`: it rejects the lock file that npm 11
# writes here, which leaves out other platforms' optional packages (rollup, esbuild).
npm install --no-audit --no-fund --loglevel=error
echo "setup: building"
npm run --silent build
echo "setup: done. Try: ./flowtrack --help"
