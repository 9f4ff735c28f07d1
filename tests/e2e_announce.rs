//! End-to-end announcements (issue 13 item 5): when a binding appears or its tap reappears,
//! the daemon sends a gratuitous ARP for GATEWAY and unsolicited Neighbor Advertisements for
//! the router link-local and GATEWAY6 onto the tap, from INDEV's MAC. Seen with tcpdump in the
//! VM's namespace, and in what the VM's kernel did with them (its neighbour cache). Needs root
//! and tcpdump; only 192.0.2.0/24 and 2001:db8::/32.

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;

/// A bogus MAC the VM's neighbour cache starts with for GATEWAY and GATEWAY6: what a VM that
/// migrated from another host, or whose gateway MAC changed, still holds.
const OLD_MAC: &str = "02:00:5e:ff:ff:01";

/// tcpdump on every interface of the VM's namespace (`any`: it keeps capturing when eth0 is
/// deleted and re-created with the tap), incoming only, with link-level headers (`-e`: the
/// sender's MAC) and `-v` (the NA's flags and hop limit).
fn capture(sb: &mut Sandbox, vm: &Vm) -> Arc<LogBuf> {
    let netns = vm.netns.clone();
    let cap = sb.spawn_in(
        &netns,
        "tcpdump",
        &[
            "tcpdump",
            "-l",
            "-n",
            "-e",
            "-v",
            "-Q",
            "in",
            "-i",
            "any",
            "arp or icmp6",
        ],
    );
    if cap
        .wait_for(0, |l| l.contains("listening on"), Duration::from_secs(10))
        .is_none()
    {
        sb.fail(&format!("tcpdump did not start:\n{}", cap.text()));
    }
    cap
}

/// Captured packet lines (tcpdump's stdout) holding every one of `needles`.
fn seen(cap: &LogBuf, needles: &[&str]) -> usize {
    cap.lines()
        .iter()
        .filter_map(|l| l.strip_prefix("[stdout] "))
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .count()
}

/// Waits until `cap` holds `n` gratuitous ARPs for GATEWAY and `n` unsolicited NAs for each of
/// the router link-local and GATEWAY6, all from `indev_mac` (NAs from the router link-local to
/// all nodes, hop limit 255, R and O set, S clear).
fn expect_announcements(sb: &Sandbox, cap: &LogBuf, indev_mac: &str, n: usize) {
    let router = link_local(indev_mac).to_string();
    let garp = format!("Request who-has {GATEWAY} tell {GATEWAY},");
    let from = format!(" {indev_mac} ");
    let na_src = format!("{router} > ff02::1:");
    let tgt_router = format!("tgt is {router},");
    let tgt_gw6 = format!("tgt is {GATEWAY6},");
    let na = |tgt: &str| {
        seen(
            cap,
            &[
                &from,
                "hlim 255",
                &na_src,
                "neighbor advertisement",
                tgt,
                "Flags [router, override]",
            ],
        )
    };
    let counts = || {
        (
            seen(cap, &[&from, "ARP", &garp]),
            na(&tgt_router),
            na(&tgt_gw6),
        )
    };
    let what =
        format!("{n} GARP for {GATEWAY} and {n} NAs for {router} and {GATEWAY6} from {indev_mac}");
    let got = sb.wait_until(&what, BINDING_TIMEOUT, || {
        let c = counts();
        (c.0 >= n && c.1 >= n && c.2 >= n).then_some(c)
    });
    if got != (n, n, n) {
        sb.fail(&format!(
            "expected exactly {what}, got {got:?}:\n{}",
            cap.text()
        ));
    }
}

/// The VM's neighbour entry for `addr` (`ip neigh show`), empty if none.
fn neigh(sb: &Sandbox, vm: &Vm, addr: &str) -> String {
    sb.vm_must(vm, &format!("ip neigh show {addr} dev eth0"))
        .trim()
        .to_string()
}

/// A binding file appearing for a running tap, then the tap deleted and re-created (a VM
/// migrated back onto this host; in the routed set-up the tap is INDEV, so the gateway's MAC
/// changes too): each time one GARP for GATEWAY and one unsolicited NA each for the router
/// link-local and GATEWAY6, from INDEV's (new) MAC, and no more (`garp_sent`,
/// `na_unsolicited`).
///
/// The VM's neighbour cache starts with stale entries for GATEWAY and GATEWAY6 at another MAC:
/// the announcements replace both with INDEV's. Only existing entries are asserted: Linux
/// creates none from a gratuitous ARP unless arp_accept is set, nor from an unsolicited NA
/// unless accept_untracked_na is (both off by default), which is the case that matters (a VM
/// that has never talked to the gateway has nothing stale to fix). The ARP entry's locktime is
/// set to 0 so the update cannot depend on how long ago the test wrote the stale entry. The
/// router link-local's entry is not asserted: the RA that comes with the announcements (its
/// source link-layer option) updates it as well. After the re-creation only the capture is
/// asserted: the VM's eth0 is new too, with an empty cache.
#[test]
fn garp_and_unsolicited_na_when_binding_appears_and_tap_reappears() {
    let test = "garp_and_unsolicited_na_when_binding_appears_and_tap_reappears";
    let Some(mut sb) = Sandbox::start_test(test, Needs::tools(&["tcpdump"])) else {
        return;
    };
    let vm = sb.add_vm("tap0");
    let conf = Conf {
        ipv6: Some(Conf6::default()),
        ..Conf::default()
    };
    sb.start_daemon(&conf);
    // A VM that is up: its IPv6 stack listens to all-nodes (a fresh veth's comes up a moment
    // after its carrier, and drops what arrives before).
    sb.wait_link_local(&vm, BINDING_TIMEOUT);
    sb.vm_must(&vm, "sysctl -qw net.ipv4.neigh.eth0.locktime=0");
    for addr in [GATEWAY, GATEWAY6] {
        sb.vm_must(
            &vm,
            &format!("ip neigh replace {addr} lladdr {OLD_MAC} dev eth0 nud stale"),
        );
    }
    let cap = capture(&mut sb, &vm);

    // 1. The binding file appears.
    let indev_mac = sb.host_mac("tap0");
    let mark = sb.log_mark();
    sb.write_binding("tap0", &Binding::for_vm6(&vm));
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    expect_announcements(&sb, &cap, &indev_mac, 1);
    for addr in [GATEWAY, GATEWAY6] {
        let entry = sb.wait_until(
            &format!("the VM's neighbour entry for {addr} at {indev_mac}"),
            BINDING_TIMEOUT,
            || {
                let e = neigh(&sb, &vm, addr);
                e.contains(&format!("lladdr {indev_mac} ")).then_some(e)
            },
        );
        println!("VM neighbour entry: {entry}");
    }
    let c = sb.counters();
    assert_eq!(
        (ctr(&c, "garp_sent"), ctr(&c, "na_unsolicited")),
        (1, 2),
        "one GARP, two NAs: {c:?}"
    );

    // 2. The tap is deleted and re-created: a new ifindex and, INDEV being the tap, a new MAC.
    let mark = sb.log_mark();
    sb.unlink(&vm);
    sb.wait_log(mark, "binding inactive tap=tap0", BINDING_TIMEOUT);
    let mark = sb.log_mark();
    sb.link(&vm);
    let new_mac = sb.host_mac("tap0");
    assert_ne!(
        new_mac, indev_mac,
        "a re-created veth gets a new random MAC"
    );
    sb.wait_log(mark, "binding active tap=tap0", BINDING_TIMEOUT);
    expect_announcements(&sb, &cap, &new_mac, 1);
    let c = sb.counters();
    assert_eq!(
        (ctr(&c, "garp_sent"), ctr(&c, "na_unsolicited")),
        (2, 4),
        "one more GARP and two more NAs: {c:?}"
    );
}
