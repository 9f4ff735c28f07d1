#!/usr/bin/env bash
# The Debian upgrade, for real: builds a stand-in of the original Python package from the
# facts of its debian/ directory (package nfdhcpd 0.16-1~jessie, Architecture: all, the same
# conffiles, /etc/logrotate.d/nfdhcpd included, /etc/default/nfdhcpd with RUN), installs it
# into a throwaway root with `dpkg --root --force-script-chrootless`, edits the config and
# the default file as an operator would (RUN="no"), writes a binding file, then upgrades to
# our package non-interactively (stdin /dev/null, no --force-conf*) and checks: no prompt,
# the package installed, the obsolete logrotate conffile gone, the config, the default file
# and the binding file untouched, the config loaded by the installed binary, RUN="no"
# honoured by the installed unit and init script. Then a fresh install (the samples are
# installed) and purges. The init and systemd helpers are stubbed on PATH (they log their
# calls): nothing is enabled, started or stopped on the host. The last line counts checks:
# `N passed, M failed`.
#
#   bash tests/upgrade.sh                         # build our package and test
#   NFDHCPD_DEB=path.deb bash tests/upgrade.sh    # test an already built package
#
# Needs root (files owned by root in the throwaway root), dpkg-deb and unshare; a missing
# prerequisite is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$HOME/.cargo/bin:/usr/sbin:/sbin"

passed=0
failed=0
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
not_ok() { echo "FAIL - $*"; failed=$((failed + 1)); }
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
die() {
    not_ok "$*"
    finish
}

[ "$(id -u)" = 0 ] || die "needs root"
for t in dpkg dpkg-deb dpkg-query unshare; do
    command -v "$t" >/dev/null || die "\`$t\` not found"
done

WORK=$(mktemp -d /tmp/nfdhcpd-upgrade-XXXXXX)
# `nfdhcpd -t` checks the state directory as the configured user (nobody): it must reach it.
chmod 0755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# ---- our package ----------------------------------------------------------------------------
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
DEB=${NFDHCPD_DEB:-}
if [ -z "$DEB" ]; then
    # As tests/package.sh builds it (the glibc 2.17 binary), or plainly without zig.
    if command -v cargo-zigbuild >/dev/null && python3 -m ziglang version >/dev/null 2>&1; then
        echo "== cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.17; cargo deb --no-build"
        cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.17 >"$WORK/build.log" 2>&1 &&
            cargo deb --no-build --target x86_64-unknown-linux-gnu >>"$WORK/build.log" 2>&1
    else
        echo "== cargo deb"
        cargo deb >"$WORK/build.log" 2>&1
    fi || {
        cat "$WORK/build.log"
        die "building our package"
    }
    DEB=$(tail -n 1 "$WORK/build.log")
fi
[ -f "$DEB" ] || die "no package at $DEB"
DEB=$(readlink -f "$DEB")
echo "== ours: $DEB"

# ---- the stand-in of the original package -----------------------------------------------------
# Its files, as debian/ and contrib/ installed them (REFERENCE: the packaging of the original).
OLD=$WORK/old
mkdir -p "$OLD/DEBIAN" "$OLD/etc/nfdhcpd" "$OLD/etc/default" "$OLD/etc/ferm" \
    "$OLD/etc/logrotate.d" "$OLD/etc/init.d" "$OLD/usr/sbin" "$OLD/lib/systemd/system" \
    "$OLD/var/lib/nfdhcpd" "$OLD/var/log/nfdhcpd" "$OLD/usr/share/doc/nfdhcpd"
cat >"$OLD/DEBIAN/control" <<'EOF'
Package: nfdhcpd
Version: 0.16-1~jessie
Architecture: all
Maintainer: stand-in of the original <nobody@example.org>
Section: net
Priority: optional
Depends: python (>= 2.7), python-nfqueue (>= 0.4-3), python-scapy (>= 2.0.1)
Replaces: snf-network
Suggests: ferm
Description: NFQUEUE-based DHCP server (stand-in of the Python package, for tests)
 Built by tests/upgrade.sh from the facts of the original's debian/ directory.
EOF
printf '%s\n' /etc/default/nfdhcpd /etc/ferm/nfdhcpd.ferm /etc/init.d/nfdhcpd \
    /etc/logrotate.d/nfdhcpd /etc/nfdhcpd/nfdhcpd.conf >"$OLD/DEBIAN/conffiles"
# postinst: `chown nobody /var/log/nfdhcpd` (under DPKG_ROOT: a stand-in must not touch the
# host); prerm: dh_installinit's stop.
printf '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then chown nobody "$DPKG_ROOT/var/log/nfdhcpd"; fi\n' >"$OLD/DEBIAN/postinst"
printf '#!/bin/sh\nset -e\nif [ -x "$DPKG_ROOT/etc/init.d/nfdhcpd" ]; then invoke-rc.d nfdhcpd stop || exit $?; fi\n' >"$OLD/DEBIAN/prerm"
chmod 755 "$OLD/DEBIAN/postinst" "$OLD/DEBIAN/prerm"
cp tests/fixtures/compat-nfdhcpd.conf "$OLD/etc/nfdhcpd/nfdhcpd.conf"
cp tests/fixtures/compat-nfdhcpd.default "$OLD/etc/default/nfdhcpd"
# contrib/ferm/nfdhcpd.ferm: DHCP routed and bridged, IPv6 routed only.
cat >"$OLD/etc/ferm/nfdhcpd.ferm" <<'EOF'
domain ip table mangle chain PREROUTING {
    interface tap+ proto udp dport 67 NFQUEUE queue-num 42;
    mod physdev physdev-in tap+ proto udp dport 67 NFQUEUE queue-num 42;
}
domain ip6 table mangle chain PREROUTING {
    interface tap+ proto icmpv6 icmpv6-type router-solicitation NFQUEUE queue-num 43;
    interface tap+ proto icmpv6 icmpv6-type neighbour-solicitation NFQUEUE queue-num 44;
    interface tap+ proto udp dport 547 NFQUEUE queue-num 45;
}
EOF
cat >"$OLD/etc/logrotate.d/nfdhcpd" <<'EOF'
/var/log/nfdhcpd/nfdhcpd.log /var/log/nfdhcpd/hooks.log {
    daily
    rotate 7
    missingok
    notifempty
    create 644 nobody nogroup
}
EOF
cat >"$OLD/etc/init.d/nfdhcpd" <<'EOF'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          nfdhcpd
# Required-Start:    $network $local_fs $remote_fs
# Required-Stop:     $network $local_fs $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: stand-in of the original's init script
### END INIT INFO
[ -r /etc/default/nfdhcpd ] && . /etc/default/nfdhcpd
[ "$RUN" = yes ] || { echo "nfdhcpd disabled"; exit 1; }
exit 0
EOF
chmod 755 "$OLD/etc/init.d/nfdhcpd"
printf '#!/bin/sh\n# stand-in of the Python console script\nexit 0\n' >"$OLD/usr/sbin/nfdhcpd"
chmod 755 "$OLD/usr/sbin/nfdhcpd"
cat >"$OLD/lib/systemd/system/nfdhcpd.service" <<'EOF'
[Unit]
Description=NFQUEUE-based DHCP server (stand-in)
ConditionPathExists=!/etc/nfdhcpd/nfdhcpd_not_to_be_run
[Service]
EnvironmentFile=-/etc/default/nfdhcpd
ExecStart=/usr/sbin/nfdhcpd $DAEMON_OPTS
[Install]
WantedBy=multi-user.target
EOF
echo "stand-in" >"$OLD/usr/share/doc/nfdhcpd/README.md"
dpkg-deb --root-owner-group -Zxz -b "$OLD" "$WORK/nfdhcpd_0.16-1~jessie_all.deb" >/dev/null ||
    die "dpkg-deb: the stand-in of the original"
OLDDEB=$WORK/nfdhcpd_0.16-1~jessie_all.deb

# ---- the throwaway root, stubs -----------------------------------------------------------------
# The helpers the maintainer scripts may call: each logs its arguments and DPKG_ROOT.
mkdir "$WORK/stubs"
for t in deb-systemd-helper deb-systemd-invoke invoke-rc.d update-rc.d systemctl service; do
    printf '#!/bin/sh\necho "%s $* (DPKG_ROOT=$DPKG_ROOT)" >>"%s/calls"\nexit 0\n' "$t" "$WORK" >"$WORK/stubs/$t"
    chmod 755 "$WORK/stubs/$t"
done
# newroot DIR: an empty root with a dpkg database.
newroot() {
    mkdir -p "$1/var/lib/dpkg/info" "$1/var/lib/dpkg/updates" "$1/var/lib/dpkg/triggers" \
        "$1/etc" "$1/usr/share" "$1/var/log"
    touch "$1/var/lib/dpkg/status" "$1/var/lib/dpkg/available"
}
# pkg ROOT ARGS...: dpkg on ROOT, non-interactive, stdin from /dev/null, output in $WORK/out
# (and shown, indented), maintainer scripts run chrootless with the stubs first on PATH.
pkg() {
    local root=$1
    shift
    echo "-- dpkg --root=$root $*"
    DEBIAN_FRONTEND=noninteractive PATH="$WORK/stubs:$PATH" \
        dpkg --root="$root" --force-script-chrootless --force-depends --force-not-root "$@" \
        </dev/null >"$WORK/out" 2>&1
    local rc=$?
    sed 's/^/     | /' "$WORK/out"
    return "$rc"
}
status() { dpkg-query --admindir="$1/var/lib/dpkg" -W -f '${Status} ${Version}' nfdhcpd 2>/dev/null; }
conffiles() { dpkg-query --admindir="$1/var/lib/dpkg" -W -f '${Conffiles}\n' nfdhcpd 2>/dev/null; }
same_file() { cmp -s "$1" "$2" && [ "$(stat -c '%Y %a %U' "$1")" = "$(stat -c '%Y %a %U' "$2")" ]; }

# ---- install the original, then the operator's edits -------------------------------------------
R=$WORK/root
newroot "$R"
pkg "$R" -i "$OLDDEB"
check "the stand-in of the original installs (dpkg --root, chrootless scripts)" [ $? = 0 ]
check "... status: install ok installed 0.16-1~jessie" [ "$(status "$R")" = "install ok installed 0.16-1~jessie" ]
check "... with the logrotate conffile" [ -f "$R/etc/logrotate.d/nfdhcpd" ]

# An operator's edits: a nameserver changed and a comment added; RUN="no".
sed -i -e 's/^nameservers = 192.0.2.2, 192.0.2.3/nameservers = 192.0.2.53, 192.0.2.3/' \
    -e '1i # local: our resolver (ticket 1234)' "$R/etc/nfdhcpd/nfdhcpd.conf"
sed -i 's/^RUN="yes"/RUN="no"/' "$R/etc/default/nfdhcpd"
check "the edited config differs from the original's" bash -c "! cmp -s tests/fixtures/compat-nfdhcpd.conf '$R/etc/nfdhcpd/nfdhcpd.conf'"
check "the default file says RUN=\"no\"" grep -qx 'RUN="no"' "$R/etc/default/nfdhcpd"
# The VM manager's binding file.
cp tests/fixtures/compat-binding-tap10 "$R/var/lib/nfdhcpd/tap10"
touch -d '2001-01-01 00:00:00 UTC' "$R/var/lib/nfdhcpd/tap10" "$R/etc/nfdhcpd/nfdhcpd.conf" "$R/etc/default/nfdhcpd"
mkdir "$WORK/before"
cp -p "$R/etc/nfdhcpd/nfdhcpd.conf" "$R/etc/default/nfdhcpd" "$R/var/lib/nfdhcpd/tap10" "$WORK/before/"

# ---- the upgrade -------------------------------------------------------------------------------
rm -f "$WORK/calls"
pkg "$R" -i "$DEB"
rc=$?
cp "$WORK/out" "$WORK/upgrade.out"
check "upgrade to ours exits 0 (stdin /dev/null, no --force-conf*)" [ "$rc" = 0 ]
check "... status: install ok installed $VERSION-1" [ "$(status "$R")" = "install ok installed $VERSION-1" ]
check "... no conffile prompt" bash -c "! grep -qi -e 'conffile prompt' -e 'end of file on stdin' -e 'Configuration file .* modified' '$WORK/upgrade.out'"
check "... no dpkg error or warning but the forced dependencies" \
    bash -c "! grep -v -e 'depends on' -e 'dependency problem' -e 'pre-dependency problem' -e 'python' -e 'Package .* is not installed' -e 'init-system-helpers' -e 'unable to delete old directory' '$WORK/upgrade.out' | grep -qi -e 'error' -e 'warning'"
check "/etc/logrotate.d/nfdhcpd removed (rm_conffile)" bash -c "[ ! -e '$R/etc/logrotate.d/nfdhcpd' ] && [ ! -e '$R/etc/logrotate.d/nfdhcpd.dpkg-bak' ]"
check "... and no longer a conffile of the package" bash -c "! dpkg-query --admindir='$R/var/lib/dpkg' -W -f '\${Conffiles}' nfdhcpd | grep -q logrotate"
check "config unchanged (contents, mtime, mode, owner)" same_file "$WORK/before/nfdhcpd.conf" "$R/etc/nfdhcpd/nfdhcpd.conf"
check "default file unchanged (RUN=\"no\" kept)" same_file "$WORK/before/nfdhcpd" "$R/etc/default/nfdhcpd"
check "binding file unchanged (contents, mtime)" same_file "$WORK/before/tap10" "$R/var/lib/nfdhcpd/tap10"
check "no .dpkg-new / .dpkg-dist / .dpkg-old next to them" \
    bash -c "! ls '$R/etc/nfdhcpd' '$R/etc/default' '$R/etc/ferm' | grep -q dpkg-"
check "the unmodified ferm file is replaced by ours (a conffile, silently)" cmp -s conf/nfdhcpd.ferm "$R/etc/ferm/nfdhcpd.ferm"
conffiles "$R" >"$WORK/conffiles"
check "the old config and default file are obsolete conffiles (dpkg keeps them as they are)" \
    bash -c "grep -q '^ /etc/nfdhcpd/nfdhcpd.conf [0-9a-f]* obsolete$' '$WORK/conffiles' && grep -q '^ /etc/default/nfdhcpd [0-9a-f]* obsolete$' '$WORK/conffiles'"
check "our unit installed, the old /lib/systemd/system/nfdhcpd.service gone" \
    bash -c "[ -f '$R/usr/lib/systemd/system/nfdhcpd.service' ] && [ ! -e '$R/lib/systemd/system/nfdhcpd.service' ]"
check "the old prerm ran (invoke-rc.d nfdhcpd stop, stubbed)" grep -q "^invoke-rc.d nfdhcpd stop " "$WORK/calls"
check "nothing started, stopped or reloaded by our scripts (no deb-systemd-invoke, systemctl, update-rc.d, invoke-rc.d --skip-systemd-native)" \
    bash -c "! grep -q -e '^deb-systemd-invoke' -e '^systemctl' -e '^update-rc.d' -e '^invoke-rc.d --skip-systemd-native' -e '^service' '$WORK/calls'"
check "the unit enabled in the root (deb-systemd-helper enable, with DPKG_ROOT)" \
    grep -qF "deb-systemd-helper enable nfdhcpd.service (DPKG_ROOT=$R)" "$WORK/calls"

# The installed binary loads the kept config (its datapath pointed at the root's).
sed "s|^datapath *=[^#]*|datapath = $R/var/lib/nfdhcpd |" "$R/etc/nfdhcpd/nfdhcpd.conf" >"$WORK/loaded.conf"
"$R/usr/sbin/nfdhcpd" -t -c "$WORK/loaded.conf" >"$WORK/t.out" 2>&1
rc=$?
sed 's/^/     | /' "$WORK/t.out"
check "the installed nfdhcpd loads the kept config: configuration OK" \
    bash -c "[ $rc = 0 ] && grep -q 'configuration OK' '$WORK/t.out'"
check "... and the kept binding file: 1 binding files OK" grep -q '1 binding files OK, 0 with problems' "$WORK/t.out"
check "... the operator's edit is what it read (the config's only change: the nameserver)" \
    bash -c "diff <(grep -v '^#' tests/fixtures/compat-nfdhcpd.conf) <(grep -v '^#' '$R/etc/nfdhcpd/nfdhcpd.conf') | grep -q '^> nameservers = 192.0.2.53, 192.0.2.3'"

# RUN="no" honoured: the installed unit's ExecCondition, run as systemd runs it (the default
# file's variables in the environment, `$$` as `$`), and the installed init script (in its
# own network namespace, with our binary as DAEMON: should RUN be ignored, it could not
# touch the host's queues).
COND=$(sed -n 's/^ExecCondition=//p' "$R/usr/lib/systemd/system/nfdhcpd.service" | sed 's/\$\$/$/g')
check "the installed unit has an ExecCondition" [ -n "$COND" ]
(
    set -a
    . "$R/etc/default/nfdhcpd"
    exec env PATH=/usr/bin:/bin sh -c "exec $COND"
) >"$WORK/cond" 2>&1
rc=$?
check "systemd: the unit is skipped (ExecCondition exits $rc, says: $(cat "$WORK/cond"))" \
    bash -c "[ $rc != 0 ] && grep -q 'disabled by RUN=no' '$WORK/cond'"
{ cat "$R/etc/default/nfdhcpd"; echo "DAEMON=$R/usr/sbin/nfdhcpd"; echo "DAEMON_OPTS=\"-c $WORK/loaded.conf\""; } >"$WORK/default.run"
unshare --net env NFDHCPD_DEFAULTS="$WORK/default.run" SYSTEMCTL_SKIP_REDIRECT=1 \
    sh "$R/etc/init.d/nfdhcpd" start >"$WORK/init.out" 2>&1
rc=$?
sed 's/^/     | /' "$WORK/init.out"
running=$(for e in /proc/[0-9]*/exe; do [ "$(readlink "$e" 2>/dev/null)" = "$R/usr/sbin/nfdhcpd" ] && echo "${e%/exe}"; done)
check "sysvinit: the installed init script says disabled and starts nothing (exit $rc)" \
    bash -c "[ $rc = 0 ] && grep -q 'disabled' '$WORK/init.out' && [ -z '$running' ]"
for p in $running; do kill -KILL "${p#/proc/}"; done

# ---- purge after the upgrade --------------------------------------------------------------------
pkg "$R" --purge nfdhcpd
check "purge exits 0" [ $? = 0 ]
check "... the package is gone" [ -z "$(status "$R")" ]
check "... the config and the default file are removed" \
    bash -c "[ ! -e '$R/etc/nfdhcpd/nfdhcpd.conf' ] && [ ! -e '$R/etc/default/nfdhcpd' ]"
check "... the binding file is left alone" same_file "$WORK/before/tap10" "$R/var/lib/nfdhcpd/tap10"

# ---- a fresh install: the samples --------------------------------------------------------------
F=$WORK/fresh
newroot "$F"
rm -f "$WORK/calls"
pkg "$F" -i "$DEB"
check "fresh install exits 0" [ $? = 0 ]
check "... status: install ok installed $VERSION-1" [ "$(status "$F")" = "install ok installed $VERSION-1" ]
check "... the sample config at /etc/nfdhcpd/nfdhcpd.conf (0644)" \
    bash -c "cmp -s conf/nfdhcpd.conf '$F/etc/nfdhcpd/nfdhcpd.conf' && [ \$(stat -c %a '$F/etc/nfdhcpd/nfdhcpd.conf') = 644 ]"
check "... the sample default file at /etc/default/nfdhcpd" cmp -s conf/nfdhcpd.default "$F/etc/default/nfdhcpd"
check "... /var/lib/nfdhcpd and /var/log/nfdhcpd created" bash -c "[ -d '$F/var/lib/nfdhcpd' ] && [ -d '$F/var/log/nfdhcpd' ]"
check "... conffiles: the ferm file and the init script only" \
    [ "$(conffiles "$F" | awk 'NF { print $1 }' | LC_ALL=C sort | tr '\n' ' ')" = "/etc/ferm/nfdhcpd.ferm /etc/init.d/nfdhcpd " ]
check "... nothing started on the host" \
    bash -c "! grep -q -e '^deb-systemd-invoke' -e '^systemctl' -e '^update-rc.d' -e '^invoke-rc.d' '$WORK/calls'"
# A reinstall over an edited config keeps it.
echo '# edited' >>"$F/etc/nfdhcpd/nfdhcpd.conf"
cp -p "$F/etc/nfdhcpd/nfdhcpd.conf" "$WORK/fresh-edited.conf"
pkg "$F" -i "$DEB"
check "reinstall exits 0 and keeps the edited config" \
    bash -c "[ $? = 0 ] && cmp -s '$WORK/fresh-edited.conf' '$F/etc/nfdhcpd/nfdhcpd.conf'"
pkg "$F" --purge nfdhcpd
check "purge exits 0" [ $? = 0 ]
check "... removes /etc/nfdhcpd/nfdhcpd.conf, /etc/nfdhcpd and /etc/default/nfdhcpd" \
    bash -c "[ ! -e '$F/etc/nfdhcpd' ] && [ ! -e '$F/etc/default/nfdhcpd' ]"
check "... leaves /var/lib/nfdhcpd" [ -d "$F/var/lib/nfdhcpd" ]

finish
