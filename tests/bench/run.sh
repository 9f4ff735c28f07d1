#!/bin/bash
# nfdhcpd benchmarks (issue 6): builds the daemon and the bench helpers, installs what the
# peers need, and runs tests/bench/bench.py, which prints the results table (and writes it
# to tests/bench/last-run.md, raw figures to last-run.json). As root, or as a user with sudo
# (it re-runs itself with sudo):
#
#     bash tests/bench/run.sh            # full run, about 20 minutes on 2 cores
#     bash tests/bench/run.sh --quick    # smoke run, rough figures, about 6 minutes
#     bash tests/bench/run.sh --only dhcp,nd   # sections: dhcp perfdhcp nd ctl scale allocs
#
# Everything runs in private network namespaces (nfdb-<pid>-*) that are removed on exit.
set -euo pipefail
# Needs root (network namespaces, iptables, NFQUEUE): as another user, re-run through sudo
# (with PATH kept, for cargo).
if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "run.sh: needs root (network namespaces, iptables, NFQUEUE): run it as root, or install sudo" >&2
        exit 1
    fi
    exec sudo -E env "PATH=$PATH" bash "$0" "$@"
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

need=()
command -v iptables >/dev/null || need+=(iptables)
command -v ip >/dev/null || need+=(iproute2)
command -v perfdhcp >/dev/null || [ -x /usr/sbin/perfdhcp ] || need+=(kea-admin)
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
command -v valgrind >/dev/null || need+=(valgrind)
[ -x /usr/bin/python3 ] || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    echo "run.sh: installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

echo "run.sh: building the daemon (release) and the bench helpers" >&2
(cd "$root" && cargo build --release --quiet)
(cd "$here" && cargo build --release --quiet)

# Allocations on the pure hot path (a counting global allocator; no root needed).
echo "run.sh: allocation counts of the policy code (tests/bench_allocs.rs)" >&2
(cd "$root" && cargo test --release --quiet --test bench_allocs -- --nocapture 2>&1 | grep -E "^(allocs|test result)" || true)

exec /usr/bin/python3 "$here/bench.py" "$@"
