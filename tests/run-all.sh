#!/usr/bin/env bash
# Installs the test prerequisites and runs every test: `cargo test --all-targets` (unit tests
# and the real-kernel end-to-end tests of tests/e2e_*.rs), the end-to-end tests a second time
# with the native nft rule set (NFDHCPD_FIREWALL=nft), the doc tests, and the script tests
# (tests/try-it.sh, package.sh, upgrade.sh, initscript.sh). Exits non-zero if anything
# failed; the last line counts what passed, what
# failed and what was skipped (an end-to-end test whose prerequisites are missing: never under
# CI=true, where that is a failure); the skipped tests are listed above it, with the reason.
#
# The end-to-end tests need root and these Debian packages: iproute2 (ip netns), iptables
# (iptables, ip6tables), isc-dhcp-client (dhclient, also -6), dnsmasq-base (a DHCP peer on
# unbound taps), ndisc6 (rdisc6, ndisc6), rdnssd (the VM's RDNSS client) and tcpdump (RA and
# NA captures in the VM namespace). apt is skipped when
# they are all there, except under CI=true, which always refreshes them (a missing tool is
# then also a test failure, never a skip).
set -uo pipefail
# Root is needed for the end-to-end tests (network namespaces, iptables) and the installs: as
# another user, re-run through sudo (with PATH kept, for cargo); without sudo, go on as we are
# (the end-to-end tests are then skipped, and counted and listed as skipped).
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then
        exec sudo -E env "PATH=$PATH" bash "$0" "$@"
    fi
    echo "run-all: not root and no sudo: the end-to-end tests will be skipped; run it as root" >&2
fi
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"

PACKAGES=(iproute2 iptables isc-dhcp-client dnsmasq-base ndisc6 rdnssd tcpdump nftables udhcpc dhcpcd-base)
TOOLS=(ip iptables ip6tables dhclient dnsmasq rdisc6 ndisc6 rdnssd tcpdump nft udhcpc dhcpcd)
# tests/package.sh also needs lintian and systemd-analyze (it installs lintian itself, and
# cargo-deb and cargo-zigbuild with cargo and zig with pip (PyPI's ziglang), when they are
# missing); tests/upgrade.sh needs dpkg and unshare.
PACKAGES+=(lintian systemd)
TOOLS+=(lintian systemd-analyze)
# The dhcpcd runs of tests/common/mod.rs (`Sandbox::dhcpcd6`) each get a private mount
# namespace (their own /run and /var/lib/dhcpcd): unshare (util-linux) and mount.
PACKAGES+=(util-linux mount)
TOOLS+=(unshare mount)
# tests/e2e_hostile.rs and tests/e2e_faults.rs build their VMs' packets with scapy
# (tests/tools/vmpkt.py, run by /usr/bin/python3).
PACKAGES+=(python3-scapy)
TOOLS+=(scapy)
# tests/e2e_ctl.rs parses the metrics with the Prometheus client library's text parser.
PACKAGES+=(python3-prometheus-client)

missing=()
for t in "${TOOLS[@]}"; do command -v "$t" >/dev/null || missing+=("$t"); done
if [ "${#missing[@]}" -gt 0 ] || [ "${CI:-}" = true ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "== apt-get install ${PACKAGES[*]} (missing: ${missing[*]:-none})"
        export DEBIAN_FRONTEND=noninteractive
        if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"; }; then
            echo "run-all: apt-get failed" >&2
        fi
    else
        echo "run-all: not root: cannot install ${missing[*]}; the end-to-end tests will say so" >&2
    fi
fi

LOG=$(mktemp /tmp/nfdhcpd-run-all-XXXXXX.log)
# A skipped test returns early, and cargo counts it as passed: the harness writes one file per
# skipped test here (tests/common/mod.rs, `skipped`), named `<test crate>::<test>`, holding why.
NFDHCPD_SKIP_DIR=$(mktemp -d /tmp/nfdhcpd-run-all-skips-XXXXXX)
chmod 0777 "$NFDHCPD_SKIP_DIR" # also for tests that drop privileges
export NFDHCPD_SKIP_DIR
trap 'rm -f "$LOG"; rm -rf "$NFDHCPD_SKIP_DIR"' EXIT
failed_steps=()

step() {
    local name=$1
    shift
    echo "== $name: $*"
    if ! "$@" 2>&1 | tee -a "$LOG"; then
        failed_steps+=("$name")
    fi
}

step "cargo test" cargo test --all-targets --no-fail-fast
step "doc tests" cargo test --doc
# The end-to-end tests again, with the complete native nft rule set (conf/nfdhcpd.nft)
# instead of the iptables rules in every sandbox (tests/README.md, NFDHCPD_FIREWALL).
e2e_tests=()
for f in tests/e2e_*.rs; do e2e_tests+=(--test "$(basename "$f" .rs)"); done
step "e2e with nft" env NFDHCPD_FIREWALL=nft cargo test --no-fail-fast "${e2e_tests[@]}"

# Script tests: each counts as one test in the summary.
scripts_passed=0
scripts_failed=0
for script in tests/try-it.sh tests/package.sh tests/upgrade.sh tests/initscript.sh; do
    echo "== script test: $script"
    if bash "$script"; then
        scripts_passed=$((scripts_passed + 1))
    else
        scripts_failed=$((scripts_failed + 1))
        failed_steps+=("$script")
    fi
done

# Sum cargo's "test result: ok. N passed; M failed; ..." lines.
read -r passed failed < <(awk '/^test result:/ {
        for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i }
    } END { print p + 0, f + 0 }' "$LOG")
skipped_tests=()
for f in "$NFDHCPD_SKIP_DIR"/*; do
    [ -f "$f" ] && skipped_tests+=("$(basename "$f"): $(head -n 1 "$f")")
done
skipped=${#skipped_tests[@]}
# cargo counted each skipped test as passed.
passed=$((passed - skipped + scripts_passed))
failed=$((failed + scripts_failed))
if [ "$skipped" -gt 0 ]; then
    echo "run-all: skipped (not passed):"
    printf '  %s\n' "${skipped_tests[@]}"
fi
if [ "${#failed_steps[@]}" -gt 0 ]; then
    echo "run-all: failed steps: ${failed_steps[*]}"
    [ "$failed" -gt 0 ] || failed=1
fi
echo "run-all: $passed passed, $failed failed, $skipped skipped"
[ "${#failed_steps[@]}" -eq 0 ]
