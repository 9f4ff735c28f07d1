#!/usr/bin/env bash
# The Debian package: installs cargo-deb (if missing) and lintian (if missing, as root),
# builds the .deb with `cargo deb`, checks its control data, contents, conffiles and
# maintainer scripts, runs the maintainer scripts against a throwaway /var (private mount
# namespace, stubbed dpkg/init helpers), runs lintian (failing on errors), and
# `systemd-analyze verify` on the unit. The last line counts checks: `N passed, M failed`.
#
#   bash tests/package.sh              # build and check
#   NFDHCPD_DEB=path.deb bash tests/package.sh   # check an already built package
#
# A missing tool (no root to install it) is a skipped check, or a failure with CI=true.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$HOME/.cargo/bin:/usr/sbin:/sbin"

passed=0
failed=0
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
not_ok() { echo "FAIL - $*"; failed=$((failed + 1)); }
skip() {
    if [ "${CI:-}" = true ]; then not_ok "$* (missing prerequisite; CI=true)"; else echo "skip - $*"; fi
}
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

WORK=$(mktemp -d /tmp/nfdhcpd-package-XXXXXX)
# `nfdhcpd -t` checks the state directory as the configured user (nobody): it must reach it.
chmod 0755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# ---- tools -------------------------------------------------------------------------------
if ! command -v cargo-deb >/dev/null; then
    echo "== cargo install cargo-deb"
    cargo install --quiet cargo-deb || true
fi
# The release binary is built against glibc 2.17 with cargo-zigbuild (zig from PyPI's
# ziglang as its linker): the package then installs on hosts older than bookworm.
if ! python3 -m ziglang version >/dev/null 2>&1; then
    echo "== pip install ziglang"
    # (--break-system-packages: where python3 is Debian's own, PEP 668.)
    python3 -m pip install --quiet --root-user-action=ignore ziglang 2>/dev/null ||
        python3 -m pip install --quiet --root-user-action=ignore --break-system-packages ziglang ||
        echo "package: pip install ziglang failed" >&2
fi
if ! command -v cargo-zigbuild >/dev/null; then
    echo "== cargo install cargo-zigbuild"
    cargo install --quiet cargo-zigbuild || true
fi
if ! command -v lintian >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "== apt-get install lintian"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lintian >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lintian >/dev/null; } ||
        echo "package: apt-get install lintian failed" >&2
fi

# ---- build -------------------------------------------------------------------------------
ZIG_TARGET=x86_64-unknown-linux-gnu
GLIBC_BASELINE=2.17
DEB=${NFDHCPD_DEB:-}
if [ -z "$DEB" ]; then
    if ! command -v cargo-deb >/dev/null; then
        not_ok "cargo-deb is not installed and \`cargo install cargo-deb\` failed"
    elif command -v cargo-zigbuild >/dev/null && python3 -m ziglang version >/dev/null 2>&1; then
        echo "== cargo zigbuild --release --target $ZIG_TARGET.$GLIBC_BASELINE; cargo deb --no-build --target $ZIG_TARGET"
        if cargo zigbuild --release --target "$ZIG_TARGET.$GLIBC_BASELINE" >"$WORK/build.log" 2>&1 &&
            cargo deb --no-build --target "$ZIG_TARGET" >>"$WORK/build.log" 2>&1; then
            DEB=$(tail -n 1 "$WORK/build.log")
            ok "cargo zigbuild (glibc $GLIBC_BASELINE) + cargo deb builds $DEB"
        else
            cat "$WORK/build.log"
            not_ok "cargo zigbuild + cargo deb"
        fi
    else
        # Without zig: a binary for this host's glibc, whose package fails the baseline checks.
        skip "cargo-zigbuild or ziglang missing: building with plain cargo deb (glibc baseline not met)"
        echo "== cargo deb"
        if cargo deb >"$WORK/build.log" 2>&1; then
            DEB=$(tail -n 1 "$WORK/build.log")
            ok "cargo deb builds $DEB"
        else
            cat "$WORK/build.log"
            not_ok "cargo deb"
        fi
    fi
fi
if [ -z "$DEB" ] || [ ! -f "$DEB" ]; then
    not_ok "no package to check"
    finish
fi

VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
field() { dpkg-deb -f "$DEB" "$1"; }
dpkg-deb -I "$DEB" >"$WORK/info"
dpkg-deb -c "$DEB" >"$WORK/contents"
dpkg-deb -e "$DEB" "$WORK/control"
dpkg-deb -x "$DEB" "$WORK/root"
ROOT=$WORK/root

# ---- control data ------------------------------------------------------------------------
check "Package: nfdhcpd" [ "$(field Package)" = nfdhcpd ]
check "Version: $VERSION-1 (above the Python package's 0.16)" \
    dpkg --compare-versions "$(field Version)" eq "$VERSION-1"
check "version upgrades the Python package" dpkg --compare-versions "$(field Version)" gt 0.16-1
check "Section: net" [ "$(field Section)" = net ]
check "Priority: optional" [ "$(field Priority)" = optional ]
check "Maintainer set" grep -q '^ Maintainer: .*<.*@.*>' "$WORK/info"
check "Depends: libc6 (>= $GLIBC_BASELINE)" [ "$(field Depends)" = "libc6 (>= $GLIBC_BASELINE)" ]
check "Replaces: nfdhcpd (<< 0.20), snf-network" \
    grep -q '^ Replaces: .*nfdhcpd (<< 0.20).*snf-network' "$WORK/info"
check "Pre-Depends: init-system-helpers (invoke-rc.d --skip-systemd-native)" \
    grep -q '^ Pre-Depends: init-system-helpers (>= 1.54~)' "$WORK/info"
# cargo-deb wraps a synopsis longer than 79 characters onto the next line, which then
# reads as the first line of the long description.
synopsis=$(sed -n 's/^description *= *"\(.*\)"$/\1/p' Cargo.toml | head -n 1)
check "synopsis fits on one line: [package] description in Cargo.toml has ${#synopsis} characters, at most 79" \
    [ "${#synopsis}" -le 79 ]
check "extended description present" grep -q '^  nfdhcpd answers' "$WORK/info"

# ---- contents ----------------------------------------------------------------------------
has() { # has MODE PATH: the package ships PATH (a file) with permissions MODE
    awk -v m="$1" -v p="./$2" '$1 == m && $NF == p { found = 1 } END { exit !found }' "$WORK/contents"
}
check "usr/sbin/nfdhcpd, 0755" has -rwxr-xr-x usr/sbin/nfdhcpd
# The config and the default file are samples postinst installs where none exists (not
# conffiles: an upgrade must never prompt nor touch an existing one).
check "usr/share/nfdhcpd/nfdhcpd.conf (postinst's sample)" has -rw-r--r-- usr/share/nfdhcpd/nfdhcpd.conf
check "usr/share/nfdhcpd/nfdhcpd.default (postinst's sample)" has -rw-r--r-- usr/share/nfdhcpd/nfdhcpd.default
check "doc examples/nfdhcpd.conf" has -rw-r--r-- usr/share/doc/nfdhcpd/examples/nfdhcpd.conf
check "doc examples/nfdhcpd.default" has -rw-r--r-- usr/share/doc/nfdhcpd/examples/nfdhcpd.default
check "no etc/nfdhcpd/nfdhcpd.conf in the archive" bash -c "! grep -q '\./etc/nfdhcpd/' '$WORK/contents'"
check "no etc/default/nfdhcpd in the archive" bash -c "! grep -q '\./etc/default/' '$WORK/contents'"
check "etc/ferm/nfdhcpd.ferm" has -rw-r--r-- etc/ferm/nfdhcpd.ferm
check "etc/init.d/nfdhcpd, 0755" has -rwxr-xr-x etc/init.d/nfdhcpd
check "usr/lib/systemd/system/nfdhcpd.service" has -rw-r--r-- usr/lib/systemd/system/nfdhcpd.service
check "man page nfdhcpd(8), gzipped" has -rw-r--r-- usr/share/man/man8/nfdhcpd.8.gz
check "man page nfdhcpd.conf(5), gzipped" has -rw-r--r-- usr/share/man/man5/nfdhcpd.conf.5.gz
check "doc README.md" has -rw-r--r-- usr/share/doc/nfdhcpd/README.md
check "doc copyright" has -rw-r--r-- usr/share/doc/nfdhcpd/copyright
check "doc changelog.Debian.gz" has -rw-r--r-- usr/share/doc/nfdhcpd/changelog.Debian.gz
check "doc examples/nfdhcpd-iptables.sh" has -rw-r--r-- usr/share/doc/nfdhcpd/examples/nfdhcpd-iptables.sh
check "doc examples/nfdhcpd.nft" has -rw-r--r-- usr/share/doc/nfdhcpd/examples/nfdhcpd.nft
check "doc examples/nfdhcpd-limits.nft" has -rw-r--r-- usr/share/doc/nfdhcpd/examples/nfdhcpd-limits.nft
check "lintian overrides" has -rw-r--r-- usr/share/lintian/overrides/nfdhcpd
check "no /var/lib/nfdhcpd in the archive (postinst creates it; dpkg never owns it)" \
    bash -c "! grep -q '\./var/lib/nfdhcpd' '$WORK/contents'"
check "every file owned by root:root" bash -c "awk '\$2 != \"0/0\" { bad = 1 } END { exit bad }' '$WORK/contents'"
same() { cmp -s "$1" "$ROOT/$2"; }
check "sample nfdhcpd.conf is conf/nfdhcpd.conf" same conf/nfdhcpd.conf usr/share/nfdhcpd/nfdhcpd.conf
check "sample default file is conf/nfdhcpd.default" same conf/nfdhcpd.default usr/share/nfdhcpd/nfdhcpd.default
check "doc examples/nfdhcpd.conf is conf/nfdhcpd.conf" same conf/nfdhcpd.conf usr/share/doc/nfdhcpd/examples/nfdhcpd.conf
check "doc examples/nfdhcpd.default is conf/nfdhcpd.default" same conf/nfdhcpd.default usr/share/doc/nfdhcpd/examples/nfdhcpd.default
check "ferm file is conf/nfdhcpd.ferm" same conf/nfdhcpd.ferm etc/ferm/nfdhcpd.ferm
# An unmodified original host must queue exactly what it queued before: the original's
# rules (contrib/ferm/nfdhcpd.ferm: DHCP routed and bridged, IPv6 routed only), each with
# queue-bypass added; bridged IPv6 is there only commented out (opt-in).
cat >"$WORK/ferm.expected" <<'END'
domain ip table mangle chain PREROUTING {
interface tap+ proto udp dport 67 NFQUEUE queue-num 42;
mod physdev physdev-in tap+ proto udp dport 67 NFQUEUE queue-num 42;
}
domain ip6 table mangle chain PREROUTING {
interface tap+ proto icmpv6 icmpv6-type router-solicitation NFQUEUE queue-num 43;
interface tap+ proto icmpv6 icmpv6-type neighbour-solicitation NFQUEUE queue-num 44;
interface tap+ proto udp dport 547 NFQUEUE queue-num 45;
}
END
sed -e 's/^ *//' -e '/^#/d' -e '/^$/d' -e 's/ queue-bypass;$/;/' "$ROOT/etc/ferm/nfdhcpd.ferm" >"$WORK/ferm.rules"
if cmp -s "$WORK/ferm.expected" "$WORK/ferm.rules"; then
    ok "ferm file queues exactly the original's rules (with queue-bypass)"
else
    diff "$WORK/ferm.expected" "$WORK/ferm.rules" | sed 's/^/    /'
    not_ok "ferm file queues exactly the original's rules (with queue-bypass)"
fi
check "ferm file: every rule has queue-bypass" \
    bash -c "! grep -v '^ *#' '$ROOT/etc/ferm/nfdhcpd.ferm' | grep NFQUEUE | grep -qv 'queue-bypass;\$'"
check "ferm file: bridged IPv6 there, commented out (opt-in)" \
    [ "$(grep -c '^ *#mod physdev physdev-in tap+ proto \(icmpv6\|udp dport 547\)' "$ROOT/etc/ferm/nfdhcpd.ferm")" = 3 ]
check "ferm file: its header names its include path, /etc/ferm/nfdhcpd.ferm" \
    grep -qF "@include '/etc/ferm/nfdhcpd.ferm';" "$ROOT/etc/ferm/nfdhcpd.ferm"
check "ferm file: no /etc/nfdhcpd/nfdhcpd.ferm" bash -c "! grep -q /etc/nfdhcpd/nfdhcpd.ferm '$ROOT/etc/ferm/nfdhcpd.ferm'"
# nfdhcpd-iptables.sh: the same by default (its commands, run with stubs that log them).
mkdir "$WORK/ipt"
for t in iptables ip6tables; do
    printf '#!/bin/sh\necho "%s $*" >>"%s/ipt/log"\n' "$t" "$WORK" >"$WORK/ipt/$t"
    chmod 755 "$WORK/ipt/$t"
done
ipt() { # ipt [VAR=value...]: the commands nfdhcpd-iptables.sh runs, one a line
    rm -f "$WORK/ipt/log"
    env "$@" PATH="$WORK/ipt:$PATH" sh "$ROOT/usr/share/doc/nfdhcpd/examples/nfdhcpd-iptables.sh" &&
        cat "$WORK/ipt/log"
}
ipt >"$WORK/ipt/default"
check "nfdhcpd-iptables.sh: the original's 5 rules by default, no bridged IPv6" \
    bash -c "[ \$(grep -c -- '-j NFQUEUE .*--queue-bypass$' '$WORK/ipt/default') = 5 ] && ! grep -q 'ip6tables.*physdev' '$WORK/ipt/default'"
ipt BRIDGED_IPV6=yes >"$WORK/ipt/bridged6"
check "nfdhcpd-iptables.sh: BRIDGED_IPV6=yes adds the 3 bridged IPv6 rules" \
    bash -c "[ \$(grep -c . '$WORK/ipt/bridged6') = 8 ] && [ \$(grep -c 'ip6tables.*physdev' '$WORK/ipt/bridged6') = 3 ]"
check "nft rule set is conf/nfdhcpd.nft" same conf/nfdhcpd.nft usr/share/doc/nfdhcpd/examples/nfdhcpd.nft
check "nft limits are conf/nfdhcpd-limits.nft" same conf/nfdhcpd-limits.nft usr/share/doc/nfdhcpd/examples/nfdhcpd-limits.nft
# The shipped rules are what the packaged binary prints for the packaged sample config.
for f in iptables:examples/nfdhcpd-iptables.sh ferm:/etc/ferm/nfdhcpd.ferm nft:examples/nfdhcpd.nft nft-limits:examples/nfdhcpd-limits.nft; do
    format=${f%%:*}
    file=${f#*:}
    case $file in
    examples/*) file=usr/share/doc/nfdhcpd/$file ;;
    *) file=${file#/} ;;
    esac
    check "$file is \`nfdhcpd --print-rules $format\` of the sample config" \
        bash -c "'$ROOT/usr/sbin/nfdhcpd' --print-rules $format -c '$ROOT/usr/share/nfdhcpd/nfdhcpd.conf' | cmp -s - '$ROOT/$file'"
done
check "init script is init/nfdhcpd.init" same init/nfdhcpd.init etc/init.d/nfdhcpd
check "unit is init/nfdhcpd.service" same init/nfdhcpd.service usr/lib/systemd/system/nfdhcpd.service
check "copyright says GPL-2.0-or-later" grep -q '^License: GPL-2.0-or-later' "$ROOT/usr/share/doc/nfdhcpd/copyright"
check "changelog.Debian's top entry is $VERSION-1" \
    bash -c "zcat '$ROOT/usr/share/doc/nfdhcpd/changelog.Debian.gz' | head -n 1 | grep -qF 'nfdhcpd ($VERSION-1)'"
# The glibc baseline: no symbol version above it, and only libc6's libraries.
glibc_max=$(objdump -T "$ROOT/usr/sbin/nfdhcpd" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
echo "   (highest GLIBC_ symbol version of usr/sbin/nfdhcpd: $glibc_max; Depends: $(field Depends))"
check "binary needs no GLIBC_ symbol version above $GLIBC_BASELINE (highest: $glibc_max)" \
    dpkg --compare-versions "$glibc_max" le "$GLIBC_BASELINE"
check "Depends' libc6 version covers the binary's highest GLIBC_ version" \
    dpkg --compare-versions "$(field Depends | sed -n 's/^libc6 (>= \([0-9.]*\))$/\1/p')" ge "$glibc_max"
needed=$(objdump -p "$ROOT/usr/sbin/nfdhcpd" | awk '$1 == "NEEDED" { print $2 }' | sort | tr '\n' ' ')
check "binary's libraries are all libc6's (NEEDED: $needed)" \
    bash -c "[ -z \"\$(echo '$needed' | tr ' ' '\n' | grep -v -x -e '' -e libc.so.6 -e libpthread.so.0 -e libdl.so.2 -e ld-linux-x86-64.so.2 -e libm.so.6 -e librt.so.1)\" ]"
check "the binary says its version" bash -c "'$ROOT/usr/sbin/nfdhcpd' -v | grep -qx 'nfdhcpd $VERSION'"

# The shipped config passes --check-config once its directory exists.
mkdir "$WORK/state"
sed "s|^datapath *=.*|datapath = $WORK/state|" "$ROOT/usr/share/nfdhcpd/nfdhcpd.conf" >"$WORK/check.conf"
if "$ROOT/usr/sbin/nfdhcpd" -t -c "$WORK/check.conf" >"$WORK/check.out" 2>&1; then
    ok "nfdhcpd -t accepts the shipped config"
else
    sed 's/^/    /' "$WORK/check.out"
    not_ok "nfdhcpd -t accepts the shipped config"
fi

# The default file is a shell fragment with the variables scripts read.
check "defaults file: sh -n" sh -n "$ROOT/usr/share/nfdhcpd/nfdhcpd.default"
check "defaults file sets DAEMON_OPTS and NFDHCPD_STATE_DIR=/var/lib/nfdhcpd" \
    sh -c ". '$ROOT/usr/share/nfdhcpd/nfdhcpd.default' && [ \"\${DAEMON_OPTS+set}\" = set ] && [ \"\$NFDHCPD_STATE_DIR\" = /var/lib/nfdhcpd ]"

# ---- man pages ---------------------------------------------------------------------------
for page in usr/share/man/man8/nfdhcpd.8.gz usr/share/man/man5/nfdhcpd.conf.5.gz; do
    if command -v man >/dev/null; then
        # The command lintian runs.
        warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$ROOT/$page" 2>&1 >/dev/null)
        if [ -z "$warnings" ]; then ok "$page renders without warnings"; else
            echo "$warnings" | sed 's/^/    /'
            not_ok "$page renders without warnings"
        fi
    else
        skip "man not installed: $page not rendered"
    fi
done

# ---- conffiles and maintainer scripts ------------------------------------------------------
C=$WORK/control
expected_conffiles=$(printf '%s\n' /etc/ferm/nfdhcpd.ferm /etc/init.d/nfdhcpd)
check "conffiles: exactly /etc/ferm/nfdhcpd.ferm and /etc/init.d/nfdhcpd" \
    [ "$(LC_ALL=C sort "$C/conffiles" 2>/dev/null)" = "$expected_conffiles" ]
for s in preinst postinst prerm postrm; do
    check "$s present, executable, sh -n" bash -c "[ -x '$C/$s' ] && sh -n '$C/$s'"
done
check "no #DEBHELPER# token left" bash -c "! grep -q '#DEBHELPER#' '$C/preinst' '$C/postinst' '$C/prerm' '$C/postrm'"
check "postinst enables the systemd unit (deb-systemd-helper)" grep -q 'deb-systemd-helper enable nfdhcpd.service' "$C/postinst"
check "postinst starts it under systemd (deb-systemd-invoke)" grep -q 'deb-systemd-invoke \$_dh_action nfdhcpd.service' "$C/postinst"
check "postinst registers the init script (update-rc.d)" grep -q 'update-rc.d nfdhcpd defaults' "$C/postinst"
check "prerm stops the unit on removal" grep -q 'deb-systemd-invoke stop nfdhcpd.service' "$C/prerm"
check "postrm purges the unit's state" grep -q 'deb-systemd-helper purge nfdhcpd.service' "$C/postrm"
check "no maintainer script removes /var/lib/nfdhcpd" \
    bash -c "! grep -E '(rm|rmdir)[^#]*/var/lib/nfdhcpd' '$C/preinst' '$C/postinst' '$C/prerm' '$C/postrm'"

# Run the maintainer scripts for real, in a private mount namespace whose /var/lib and
# /var/log are empty tmpfs and whose /etc and /usr are overlays (writes go to $WORK), with
# the dpkg and init helpers stubbed (they log their arguments): the host is not touched.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    mkdir "$WORK/stubs"
    for t in update-rc.d invoke-rc.d deb-systemd-helper deb-systemd-invoke systemctl dpkg-maintscript-helper; do
        printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\nexit 0\n' "$t" "$WORK" >"$WORK/stubs/$t"
        chmod 755 "$WORK/stubs/$t"
    done
    cat >"$WORK/maint.sh" <<EOF
set -e
mount -t tmpfs tmpfs /var/lib
mount -t tmpfs tmpfs /var/log
for d in etc usr; do
    mkdir '$WORK/ov-'\$d '$WORK/ov-'\$d.work
    mount -t overlay overlay -o lowerdir=/\$d,upperdir='$WORK/ov-'\$d,workdir='$WORK/ov-'\$d.work /\$d
done
rm -rf /etc/nfdhcpd /etc/default/nfdhcpd /etc/init.d/nfdhcpd /usr/share/nfdhcpd
cp '$ROOT/etc/init.d/nfdhcpd' /etc/init.d/nfdhcpd
cp -r '$ROOT/usr/share/nfdhcpd' /usr/share/nfdhcpd
export PATH='$WORK/stubs':\$PATH
C='$C'
r() { echo "-- \$*"; "\$@"; }
# Fresh install.
r "\$C/preinst" install
r "\$C/postinst" configure
[ -d /var/lib/nfdhcpd ] && echo "fresh: /var/lib/nfdhcpd created mode \$(stat -c %a /var/lib/nfdhcpd)"
[ -d /var/log/nfdhcpd ] && echo "fresh: /var/log/nfdhcpd created"
cmp /etc/nfdhcpd/nfdhcpd.conf '$ROOT/usr/share/nfdhcpd/nfdhcpd.conf' && echo "fresh: sample config installed mode \$(stat -c %a /etc/nfdhcpd/nfdhcpd.conf)"
cmp /etc/default/nfdhcpd '$ROOT/usr/share/nfdhcpd/nfdhcpd.default' && echo "fresh: sample default file installed mode \$(stat -c %a /etc/default/nfdhcpd)"
# The operator edits both; an upgrade leaves them alone (contents, mode, mtime).
echo '# edited' >>/etc/nfdhcpd/nfdhcpd.conf
echo 'RUN="no"' >>/etc/default/nfdhcpd
chmod 0640 /etc/nfdhcpd/nfdhcpd.conf
touch -d '2002-02-02 00:00:00 UTC' /etc/nfdhcpd/nfdhcpd.conf /etc/default/nfdhcpd
cp -p /etc/nfdhcpd/nfdhcpd.conf '$WORK/edited.conf'
cp -p /etc/default/nfdhcpd '$WORK/edited.default'
# The VM manager writes a binding file; an upgrade leaves it alone.
printf 'MAC=02:00:00:00:00:01\n' >/var/lib/nfdhcpd/tap0
chmod 0750 /var/lib/nfdhcpd
touch -d '2001-01-01 00:00:00 UTC' /var/lib/nfdhcpd/tap0
r "\$C/preinst" upgrade 0.16~rc3-1
r "\$C/postinst" configure 0.16~rc3-1
echo "upgrade: dir mode \$(stat -c %a /var/lib/nfdhcpd) file \$(cat /var/lib/nfdhcpd/tap0) mtime \$(stat -c %Y /var/lib/nfdhcpd/tap0)"
cmp /etc/nfdhcpd/nfdhcpd.conf '$WORK/edited.conf' && cmp /etc/default/nfdhcpd '$WORK/edited.default' &&
    echo "upgrade: config and default file kept, mode \$(stat -c %a /etc/nfdhcpd/nfdhcpd.conf) mtimes \$(stat -c %Y /etc/nfdhcpd/nfdhcpd.conf /etc/default/nfdhcpd | tr '\n' ' ')"
# A host whose operator deleted the default file: an upgrade installs the sample again.
rm /etc/default/nfdhcpd
r "\$C/postinst" configure 0.20.0-1
cmp /etc/default/nfdhcpd '$ROOT/usr/share/nfdhcpd/nfdhcpd.default' && echo "upgrade: a missing default file is installed"
# Remove, then purge.
echo log >/var/log/nfdhcpd/nfdhcpd.log
r "\$C/prerm" remove
r "\$C/postrm" remove
r "\$C/postrm" purge
echo "purge: binding file \$(cat /var/lib/nfdhcpd/tap0 2>/dev/null || echo GONE)"
[ -e /etc/nfdhcpd/nfdhcpd.conf ] || [ -e /etc/default/nfdhcpd ] || [ -e /etc/nfdhcpd ] || echo "purge: config, default file and /etc/nfdhcpd removed"
[ -e /var/log/nfdhcpd ] && echo "purge: /var/log/nfdhcpd still there" || echo "purge: /var/log/nfdhcpd removed"
EOF
    if unshare --mount --propagation private sh "$WORK/maint.sh" >"$WORK/maint.out" 2>&1; then
        ok "maintainer scripts run: install, upgrade from 0.16~rc3, remove, purge"
    else
        sed 's/^/    /' "$WORK/maint.out"
        not_ok "maintainer scripts run: install, upgrade from 0.16~rc3, remove, purge"
    fi
    out() { grep -qF -- "$1" "$WORK/maint.out"; }
    calls() { grep -qF -- "$1" "$WORK/calls" 2>/dev/null; }
    check "postinst creates /var/lib/nfdhcpd (0755)" out "fresh: /var/lib/nfdhcpd created mode 755"
    check "postinst creates /var/log/nfdhcpd" out "fresh: /var/log/nfdhcpd created"
    check "upgrade leaves /var/lib/nfdhcpd and its files alone" \
        out "upgrade: dir mode 750 file MAC=02:00:00:00:00:01 mtime 978307200"
    check "purge leaves the binding files alone" out "purge: binding file MAC=02:00:00:00:00:01"
    check "postinst installs the sample config (0644) where none exists" out "fresh: sample config installed mode 644"
    check "postinst installs the sample default file (0644) where none exists" out "fresh: sample default file installed mode 644"
    check "upgrade leaves an edited config and default file alone (contents, mode, mtime)" \
        out "upgrade: config and default file kept, mode 640 mtimes 1012608000 1012608000 "
    check "upgrade installs a missing default file" out "upgrade: a missing default file is installed"
    check "purge removes the config, the default file and /etc/nfdhcpd" out "purge: config, default file and /etc/nfdhcpd removed"
    check "purge removes the daemon's own log directory" out "purge: /var/log/nfdhcpd removed"
    check "postinst: update-rc.d nfdhcpd defaults" calls "update-rc.d nfdhcpd defaults"
    check "postinst: invoke-rc.d start on install" calls "invoke-rc.d --skip-systemd-native nfdhcpd start"
    check "postinst: invoke-rc.d restart on upgrade" calls "invoke-rc.d --skip-systemd-native nfdhcpd restart"
    check "prerm: invoke-rc.d stop on remove" calls "invoke-rc.d --skip-systemd-native nfdhcpd stop"
    check "postrm purge: update-rc.d nfdhcpd remove" calls "update-rc.d nfdhcpd remove"
    check "rm_conffile of the Python package's logrotate file" \
        calls "dpkg-maintscript-helper rm_conffile /etc/logrotate.d/nfdhcpd 0.20.0-1~ nfdhcpd -- upgrade 0.16~rc3-1"
else
    skip "maintainer scripts not run (needs root and unshare)"
fi

# ---- lintian -----------------------------------------------------------------------------
if command -v lintian >/dev/null; then
    echo "== lintian --pedantic --display-info $DEB"
    lintian --pedantic --display-info --fail-on error "$DEB" 2>&1 | grep -v 'running with root privileges' | tee "$WORK/lintian.out"
    rc=${PIPESTATUS[0]}
    check "lintian: no errors (exit $rc)" [ "$rc" = 0 ]
    check "lintian: no warnings" bash -c "! grep -q '^W:' '$WORK/lintian.out'"
else
    skip "lintian not installed"
fi

# ---- systemd-analyze verify ------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    # The unit as installed, except that ExecStart points at the extracted binary and the
    # man pages of Documentation= are looked up in the extracted tree.
    sed "s|/usr/sbin/nfdhcpd|$ROOT/usr/sbin/nfdhcpd|" "$ROOT/usr/lib/systemd/system/nfdhcpd.service" \
        >"$WORK/nfdhcpd.service"
    if verify=$(MANPATH="$ROOT/usr/share/man" systemd-analyze verify "$WORK/nfdhcpd.service" 2>&1) &&
        [ -z "$verify" ]; then
        ok "systemd-analyze verify nfdhcpd.service: clean"
    else
        echo "$verify" | sed 's/^/    /'
        not_ok "systemd-analyze verify nfdhcpd.service: clean"
    fi
    unit() { grep -qx -- "$1" "$ROOT/usr/lib/systemd/system/nfdhcpd.service"; }
    check "unit: Type=notify" unit "Type=notify"
    check "unit: ExecStart=/usr/sbin/nfdhcpd -f \$DAEMON_OPTS" unit 'ExecStart=/usr/sbin/nfdhcpd -f $DAEMON_OPTS'
    check "unit: ExecReload sends HUP" unit 'ExecReload=/bin/kill -HUP $MAINPID'
    check "unit: EnvironmentFile=-/etc/default/nfdhcpd" unit "EnvironmentFile=-/etc/default/nfdhcpd"
    check "unit: ConditionPathExists=!/etc/nfdhcpd/nfdhcpd_not_to_be_run" \
        unit "ConditionPathExists=!/etc/nfdhcpd/nfdhcpd_not_to_be_run"
    check "unit: AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW" unit "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW"
    check "unit: CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW" unit "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW"
    check "unit: RuntimeDirectory=nfdhcpd" unit "RuntimeDirectory=nfdhcpd"
    check "unit: no PrivateNetwork" bash -c "! grep -q '^PrivateNetwork' '$ROOT/usr/lib/systemd/system/nfdhcpd.service'"
    check "unit: WantedBy=multi-user.target" unit "WantedBy=multi-user.target"
else
    skip "systemd-analyze not installed: unit not verified"
fi

finish
