//! The firewall rules for a configuration: `nfdhcpd --print-rules iptables|ferm|nft|nft-limits
//! [--bridged]`, and the single source of the shipped files. conf/nfdhcpd-iptables.sh,
//! conf/nfdhcpd.ferm, conf/nfdhcpd.nft and conf/nfdhcpd-limits.nft ARE this module's output
//! for the sample conf/nfdhcpd.conf (without `--bridged`); a unit test fails when one of
//! them differs by a byte. To change a shipped file, change this module and regenerate:
//!
//! ```text
//! for f in iptables:nfdhcpd-iptables.sh ferm:nfdhcpd.ferm nft:nfdhcpd.nft nft-limits:nfdhcpd-limits.nft; do
//!     cargo run -q -- --print-rules ${f%%:*} -c conf/nfdhcpd.conf >conf/${f#*:}
//! done
//! ```
//!
//! What is queued is the original package's set: DHCP from routed taps (`tap*` as the input
//! interface) and bridged taps (bridge ports named `tap*`), RS, NS and DHCPv6 from routed
//! taps; RS, NS and DHCPv6 from bridged taps only with the opt-in (`--bridged`; in the
//! files: `BRIDGED_IPV6=yes`, or the commented-out rules). Only the kinds the configuration
//! serves: no DHCP rule with `enable_dhcp = no`, no IPv6 rule with `enable_ipv6 = no`, no
//! DHCPv6 rule in mode slaac. Every queue rule has the bypass flag. The per-tap limits
//! (`rate_limit`/`rate_burst`; none with `rate_limit = 0`) and the unanswered counters live
//! in nft (`table inet nfdhcpd`, `table bridge nfdhcpd`; src/nftcount.rs reads the
//! counters): in the complete nft rule set, and in nfdhcpd-limits.nft for iptables/ferm
//! hosts, whose rules name it.

use crate::config::{self, Config};
use std::fmt::Write as _;
use std::path::Path;

/// What to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A shell script of iptables/ip6tables commands (conf/nfdhcpd-iptables.sh).
    Iptables,
    /// ferm rules (conf/nfdhcpd.ferm).
    Ferm,
    /// The complete native nftables rule set (conf/nfdhcpd.nft).
    Nft,
    /// The nft limits and counters alone, loaded alongside iptables/ferm rules
    /// (conf/nfdhcpd-limits.nft).
    NftLimits,
}

impl Format {
    /// The names `--print-rules` takes, in `--help` order.
    pub const NAMES: [&'static str; 4] = ["iptables", "ferm", "nft", "nft-limits"];

    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "iptables" => Some(Format::Iptables),
            "ferm" => Some(Format::Ferm),
            "nft" => Some(Format::Nft),
            "nft-limits" => Some(Format::NftLimits),
            _ => None,
        }
    }
}

/// The mark bit nfdhcpd sets on the packets it ACCEPTs (src/worker.rs), which the
/// count_unanswered chains test and clear.
const ACCEPT_MARK: u32 = 0x0100_0000;

/// One kind of packet nfdhcpd is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kind {
    /// The set and counter suffix: `dhcp4`, `rs`, `ns`, `dhcp6`.
    name: &'static str,
    queue: u16,
    ipv6: bool,
}

/// What the configuration asks the firewall for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    kinds: Vec<Kind>,
    /// `(rate, burst)` per tap and kind; `None` for `rate_limit = 0`.
    limit: Option<(u32, u32)>,
}

impl Plan {
    pub fn from_config(config: &Config) -> Plan {
        let mut kinds = Vec::new();
        if let Some(d) = &config.fixed.dhcp {
            kinds.push(Kind {
                name: "dhcp4",
                queue: d.dhcp_queue,
                ipv6: false,
            });
        }
        if let Some(v6) = &config.fixed.ipv6 {
            let mut v6kind = |name, queue| {
                kinds.push(Kind {
                    name,
                    queue,
                    ipv6: true,
                })
            };
            v6kind("rs", v6.rs_queue);
            v6kind("ns", v6.ns_queue);
            if let Some(q) = v6.dhcpv6_queue {
                v6kind("dhcp6", q);
            }
        }
        let l = &config.live.general;
        // As the daemon's own limiter: a burst of 0 is 1 (nft refuses 0).
        let limit = (l.rate_limit > 0).then(|| (l.rate_limit, l.rate_burst.max(1)));
        Plan { kinds, limit }
    }

    fn kind(&self, name: &str) -> Option<Kind> {
        self.kinds.iter().copied().find(|k| k.name == name)
    }

    fn has_ipv4(&self) -> bool {
        self.kinds.iter().any(|k| !k.ipv6)
    }

    fn has_ipv6(&self) -> bool {
        self.kinds.iter().any(|k| k.ipv6)
    }

    /// One line naming what this output is for: queues and the limit.
    fn summary(&self) -> String {
        let queues: Vec<String> = self
            .kinds
            .iter()
            .map(|k| format!("{} {}", k.name, k.queue))
            .collect();
        let limit = match self.limit {
            Some((r, b)) => format!("per-tap limit {r}/s burst {b}"),
            None => "no per-tap limit (rate_limit = 0)".into(),
        };
        let queues = match queues.is_empty() {
            true => "none (DHCP and IPv6 both disabled)".into(),
            false => queues.join(", "),
        };
        format!("queues {queues}; {limit}")
    }
}

/// The rules for `plan` in `format`; `bridged` turns the bridged IPv6 opt-in on.
pub fn render(format: Format, plan: &Plan, bridged: bool) -> String {
    match format {
        Format::Iptables => iptables(plan, bridged),
        Format::Ferm => ferm(plan, bridged),
        Format::Nft => nft(plan, bridged, true),
        Format::NftLimits => nft(plan, bridged, false),
    }
}

/// `--print-rules`: reads the configuration and prints the rules; the exit status (0, or 1
/// for a configuration that does not load, as `--check-config`).
pub fn print(config_path: &Path, format: Format, bridged: bool) -> u8 {
    match config::load(config_path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("nfdhcpd: warning: {w}");
            }
            print!(
                "{}",
                render(format, &Plan::from_config(&loaded.config), bridged)
            );
            0
        }
        Err(e) => {
            eprintln!("nfdhcpd: {e}");
            1
        }
    }
}

const GENERATED: &str = "\
#
# Generated by `nfdhcpd --print-rules FORMAT [--bridged] [-c FILE]`, which prints these
# rules for a configuration's queue numbers, IPv6 mode and rate_limit/rate_burst; the
# shipped file is its output for the sample nfdhcpd.conf. Print it again rather than edit.
";

/// The file's header: what it is (`text`), how it was made, and for what.
fn header(text: &str, format: &str, plan: &Plan) -> String {
    format!(
        "{text}{}# This file: {}.\n",
        GENERATED.replace("FORMAT", format),
        plan.summary()
    )
}

// ---------------------------------------------------------------------------------------------
// iptables

const IPTABLES_HEAD: &str = "\
# nfdhcpd firewall rules as plain iptables/ip6tables commands (the same as nfdhcpd.ferm).
# Run once at boot (or translate into your firewall manager). Queue numbers must match
# /etc/nfdhcpd/nfdhcpd.conf.
# By default these queue what the original package's ferm file queued: DHCP from routed and
# bridged taps, RS, NS and DHCPv6 from routed taps only. BRIDGED=no leaves out the bridged
# DHCP rule. BRIDGED_IPV6=yes adds RS, NS and DHCPv6 from bridged taps: opt-in, because on a
# bridged host whose real router is on the bridge nfdhcpd would then answer VMs with a
# SUBNET6 binding would get the host's RAs, and their NS for the real router would be
# queued and dropped. Set it only where nfdhcpd is to answer bridged VMs' IPv6 too.
# Bridged taps need br_netfilter (net.bridge.bridge-nf-call-iptables/-ip6tables = 1).
# --queue-bypass: with no nfdhcpd bound to a queue (stopped, restarting, not installed)
# the packets continue as if these rules did not exist, instead of being dropped.
# Load nfdhcpd-limits.nft alongside (nft -f /usr/share/doc/nfdhcpd/examples/nfdhcpd-limits.nft,
# or `nfdhcpd --print-rules nft-limits | nft -f -`): it limits each tap in the kernel
# before these rules and counts what the queues pass on unanswered (iptables' hashlimit
# cannot key on the input interface, and every DHCPDISCOVER comes from 0.0.0.0).
# Not with nfdhcpd.nft, the complete nftables rule set, which queues by itself.
";

fn iptables_rule(k: Kind, bridged: bool) -> String {
    let (cmd, m) = match k.name {
        "dhcp4" => ("iptables ", "-p udp --dport 67"),
        "rs" => ("ip6tables", "-p icmpv6 --icmpv6-type router-solicitation"),
        "ns" => (
            "ip6tables",
            "-p icmpv6 --icmpv6-type neighbour-solicitation",
        ),
        _ => ("ip6tables", "-p udp --dport 547"),
    };
    let from = match bridged {
        true => "-m physdev --physdev-in tap+",
        false => "-i tap+",
    };
    format!(
        "{cmd} -t mangle -A PREROUTING {from} {m} -j NFQUEUE --queue-num {} --queue-bypass\n",
        k.queue
    )
}

fn iptables(plan: &Plan, bridged: bool) -> String {
    let mut s = String::from("#!/bin/sh\n");
    s += &header(IPTABLES_HEAD, "iptables", plan);
    s += "set -e\n";
    if plan.has_ipv4() {
        s += "BRIDGED=${BRIDGED:-yes}\n";
    }
    if plan.has_ipv6() {
        let default = if bridged { "yes" } else { "no" };
        let _ = writeln!(s, "BRIDGED_IPV6=${{BRIDGED_IPV6:-{default}}}");
    }
    s += "\n";
    for k in &plan.kinds {
        s += &iptables_rule(*k, false);
    }
    let indent = |r: String| format!("    {r}");
    if let Some(k) = plan.kind("dhcp4") {
        s += "\nif [ \"$BRIDGED\" = yes ]; then\n";
        s += &indent(iptables_rule(k, true));
        s += "fi\n";
    }
    if plan.has_ipv6() {
        s += "\nif [ \"$BRIDGED_IPV6\" = yes ]; then\n";
        for k in plan.kinds.iter().filter(|k| k.ipv6) {
            s += &indent(iptables_rule(*k, true));
        }
        s += "fi\n";
    }
    s
}

// ---------------------------------------------------------------------------------------------
// ferm

const FERM_HEAD: &str = "\
# nfdhcpd firewall rules for ferm: hand DHCP, DHCPv6, Router and Neighbor Solicitations
# coming from VM taps to nfdhcpd's NFQUEUEs. Installed as /etc/ferm/nfdhcpd.ferm; ferm does
# not read it by itself: include it from /etc/ferm/ferm.conf:
#   @include '/etc/ferm/nfdhcpd.ferm';
# Queue numbers must match /etc/nfdhcpd/nfdhcpd.conf. Routed taps match on the input
# interface; bridged taps (enslaved to a bridge) need the physdev match and br_netfilter
# (net.bridge.bridge-nf-call-iptables / -ip6tables = 1).
#
# These queue what the original package's file queued, and nothing more: DHCP from routed
# and bridged taps, RS, NS and DHCPv6 from routed taps only.
# Bridged IPv6 is opt-in (the commented rules at the end): on a bridged host whose real
# router is on the bridge, queueing bridged RS and NS would have nfdhcpd answer VMs with a
# SUBNET6 binding would get the host's RAs, and their NS for the real router would be
# queued and dropped. Uncomment them only where nfdhcpd is to answer bridged VMs' IPv6 too.
#
# queue-bypass: with no nfdhcpd bound to a queue (stopped, restarting) the packets continue
# as if these rules did not exist, instead of being dropped by the kernel.
# Per-tap limits: load /usr/share/doc/nfdhcpd/examples/nfdhcpd-limits.nft alongside (nft -f,
# or include it from /etc/nftables.conf): ferm's hashlimit cannot key on the input interface.
# Not nfdhcpd.nft, the complete nftables rule set, which queues by itself.
";

fn ferm_rule(k: Kind, bridged: bool) -> String {
    let from = match bridged {
        true => "mod physdev physdev-in tap+",
        false => "interface tap+",
    };
    let m = match k.name {
        "dhcp4" => "proto udp dport 67",
        "rs" => "proto icmpv6 icmpv6-type router-solicitation",
        "ns" => "proto icmpv6 icmpv6-type neighbour-solicitation",
        _ => "proto udp dport 547",
    };
    format!("{from} {m} NFQUEUE queue-num {} queue-bypass;\n", k.queue)
}

fn ferm(plan: &Plan, bridged: bool) -> String {
    let mut s = header(FERM_HEAD, "ferm", plan);
    if let Some(k) = plan.kind("dhcp4") {
        s += "\ndomain ip table mangle chain PREROUTING {\n";
        s += &format!("    {}", ferm_rule(k, false));
        s += &format!("    {}", ferm_rule(k, true));
        s += "}\n";
    }
    if plan.has_ipv6() {
        s += "\ndomain ip6 table mangle chain PREROUTING {\n";
        let v6 = || plan.kinds.iter().filter(|k| k.ipv6);
        for k in v6() {
            s += &format!("    {}", ferm_rule(*k, false));
        }
        s += "    # Bridged IPv6 (opt-in, see above):\n";
        let off = if bridged { "" } else { "#" };
        for k in v6() {
            s += &format!("    {off}{}", ferm_rule(*k, true));
        }
        s += "}\n";
    }
    s
}

// ---------------------------------------------------------------------------------------------
// nft

const NFT_HEAD: &str = "\
# nfdhcpd: the complete nftables rule set, for a host whose firewall is nftables. It holds
# the NFQUEUE rules that hand DHCP, Router and Neighbor Solicitations and DHCPv6 coming from
# VM taps to nfdhcpd, the per-tap limits in front of them, and the counters of what the
# queues pass on unanswered. Load it INSTEAD of nfdhcpd-iptables.sh / nfdhcpd.ferm and
# nfdhcpd-limits.nft, never together with iptables queue rules (every packet would be
# queued twice):
#     nft -f /usr/share/doc/nfdhcpd/examples/nfdhcpd.nft
# (or include it from /etc/nftables.conf). Loading it again replaces it. Queue numbers must
# match /etc/nfdhcpd/nfdhcpd.conf. Needs a kernel with nft's queue expression
# (CONFIG_NFT_QUEUE: a module in Debian's kernels); without it, `nft -f` fails with
# \"Could not process rule: No such file or directory\" at each queue rule.
#
# These queue what the original package's rules queued: DHCP from routed and bridged taps,
# RS, NS and DHCPv6 from routed taps only. Bridged IPv6 is opt-in: the rules starting with
# \"#iifname\" in table bridge; uncomment them (or print the file with --bridged) only where
# nfdhcpd is to answer bridged VMs' IPv6 too. Not by default: on a bridged host whose real
# router is on the bridge, VMs with a SUBNET6 binding would get the host's RAs, and their NS
# for the real router would be queued and dropped.
#
# Routed taps: table inet (iifname is the tap), at the priority of iptables' mangle
# (-150). Bridged taps: table bridge, which sees the bridge ports (iifname is the tap, not
# the bridge) before br_netfilter; these rules need no br_netfilter.
# \"bypass\" on every queue rule: with no nfdhcpd bound to a queue (stopped, restarting,
# not installed) the packets continue as if these rules did not exist, instead of being
# dropped by the kernel.
";

const NFT_LIMITS_HEAD: &str = "\
# nfdhcpd: per-tap limits in the kernel, before the NFQUEUE rules, and counters of what
# left a queue without nfdhcpd's verdict. Load it alongside the iptables/ferm rules
# (nfdhcpd-iptables.sh, nfdhcpd.ferm), which still do the queueing:
#     nft -f /usr/share/doc/nfdhcpd/examples/nfdhcpd-limits.nft
# (or include it from /etc/nftables.conf). Loading it again replaces it. On a host whose
# firewall is nftables alone, load nfdhcpd.nft instead: the same tables, with the queue
# rules in them (one replaces the other).
#
# Why nft on an iptables host: iptables' hashlimit keys on addresses and ports, not on the
# input interface, and every VM's DHCPDISCOVER comes from 0.0.0.0; an nft set keyed on the
# interface name gives every tap its own token bucket in one rule per queue.
#
# Routed taps: the inet table (iifname is the tap), hooked before iptables' mangle table
# (-150), where the NFQUEUE rules are. Bridged taps: the bridge table, which sees bridge
# ports (iifname is the tap, not the bridge); its chains run before and after br_netfilter
# hands the packet to iptables (bridge priority 0). The bridged RS, NS and DHCPv6 lines
# (starting with \"#iifname\") go with the iptables/ferm bridged IPv6 opt-in: uncomment them
# when you set BRIDGED_IPV6=yes (or print the file with --bridged).
";

const NFT_LIMIT_DOC: &str = "\
#
# The per-tap limit (chains per_tap_limit, before the queues): RATE packets per second with
# a burst of BURST, per tap and per kind: nfdhcpd.conf's rate_limit and rate_burst (a
# booting VM sends a handful of each kind). A flooding tap's excess is dropped here (and
# counted: limited_*) and never reaches nfdhcpd's queue, so other taps' requests are not
# stuck behind it; nfdhcpd keeps its own limiter as the second line. Keep the two in step:
# print this file again after changing rate_limit/rate_burst.
";

const NFT_NO_LIMIT_DOC: &str = "\
#
# No per-tap limit: the configuration has rate_limit = 0.
";

const NFT_COUNT_DOC: &str = "\
#
# The unanswered_* counters (chains count_unanswered): nfdhcpd marks every packet it
# ACCEPTs with bit 0x01000000 of the packet mark (and clears it again here); a packet that
# comes out of the NFQUEUE rules without that bit was passed on by the kernel without a
# verdict: the queue was full (fail-open) or no nfdhcpd was bound to it (bypass). DROP
# verdicts never get here. nfdhcpd reads these counters and the limited_* ones for its
# SIGUSR1 dump (table nfdhcpd).
";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Inet,
    Bridge,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Inet => "inet",
            Family::Bridge => "bridge",
        }
    }

    /// The match of `k`'s packets from a tap.
    fn matches(self, k: Kind) -> String {
        let m = match (self, k.name) {
            (Family::Inet, "dhcp4") => "meta nfproto ipv4 udp dport 67",
            (Family::Bridge, "dhcp4") => "ether type ip udp dport 67",
            (_, "rs") => "icmpv6 type nd-router-solicit",
            (_, "ns") => "icmpv6 type nd-neighbor-solicit",
            (Family::Inet, _) => "meta nfproto ipv6 udp dport 547",
            (Family::Bridge, _) => "ether type ip6 udp dport 547",
        };
        format!("iifname \"tap*\" {m}")
    }

    /// The hook priorities of the three chains.
    fn priorities(self) -> [i32; 3] {
        match self {
            // Limits before iptables' mangle (-150), queues at mangle's priority, counters
            // right after it.
            Family::Inet => [-160, -150, -149],
            // Limits before br_netfilter (0) calls iptables' mangle; the queues after the
            // limits; counters after br_netfilter has run iptables (and its queue's verdict).
            Family::Bridge => [-200, -150, 100],
        }
    }
}

/// One chain: its rules, the bridged IPv6 ones commented out unless the opt-in is on.
fn nft_chain(
    s: &mut String,
    name: &str,
    comment: &str,
    priority: i32,
    rules: &[(bool, String)],
    tail: Option<&str>,
) {
    let _ = writeln!(s, "\n    # {comment}");
    let _ = writeln!(s, "    chain {name} {{");
    let _ = writeln!(
        s,
        "        type filter hook prerouting priority {priority}; policy accept;"
    );
    let mut noted = false;
    for (on, rule) in rules {
        if !on && !noted {
            s.push_str("        # Bridged IPv6 (the opt-in, see the header):\n");
            noted = true;
        }
        let off = if *on { "" } else { "#" };
        let _ = writeln!(s, "        {off}{rule}");
    }
    if let Some(t) = tail {
        let _ = writeln!(s, "        {t}");
    }
    s.push_str("    }\n");
}

fn nft_table(s: &mut String, plan: &Plan, family: Family, bridged: bool, queue: bool) {
    let f = family.name();
    // The kinds this family queues; bridged IPv6 is there, commented out, without the
    // opt-in (its sets and counters exist either way, so uncommenting is enough).
    let kinds: Vec<(bool, Kind)> = plan
        .kinds
        .iter()
        .map(|k| (family == Family::Inet || !k.ipv6 || bridged, *k))
        .collect();
    let _ = writeln!(
        s,
        "\ntable {f} nfdhcpd\ndelete table {f} nfdhcpd\ntable {f} nfdhcpd {{"
    );
    if plan.limit.is_some() {
        for (_, k) in &kinds {
            let _ = writeln!(
                s,
                "    set {} {{ type ifname; flags dynamic; timeout 10s; }}",
                k.name
            );
        }
        for (_, k) in &kinds {
            let _ = writeln!(s, "    counter limited_{} {{ }}", k.name);
        }
    }
    for (_, k) in &kinds {
        let _ = writeln!(s, "    counter unanswered_{} {{ }}", k.name);
    }
    let [p_limit, p_queue, p_count] = family.priorities();
    if let Some((rate, burst)) = plan.limit {
        let rules: Vec<(bool, String)> = kinds
            .iter()
            .map(|(on, k)| {
                let r = format!(
                    "{} update @{} {{ iifname limit rate over {rate}/second burst {burst} packets }} counter name \"limited_{}\" drop",
                    family.matches(*k),
                    k.name,
                    k.name
                );
                (*on, r)
            })
            .collect();
        let comment = match (family, queue) {
            (Family::Inet, true) => "Before the queues (and iptables' mangle PREROUTING, -150).",
            (Family::Inet, false) => {
                "Before iptables' mangle PREROUTING (-150), where the NFQUEUE rules are."
            }
            (Family::Bridge, true) => "Before the queues (and br_netfilter, bridge priority 0).",
            (Family::Bridge, false) => {
                "Before br_netfilter (bridge priority 0) calls iptables' mangle PREROUTING."
            }
        };
        nft_chain(s, "per_tap_limit", comment, p_limit, &rules, None);
    }
    if queue {
        let rules: Vec<(bool, String)> = kinds
            .iter()
            .map(|(on, k)| {
                let r = format!(
                    "{} counter queue flags bypass to {}",
                    family.matches(*k),
                    k.queue
                );
                (*on, r)
            })
            .collect();
        let comment = match family {
            Family::Inet => "The NFQUEUE rules of routed taps, at mangle's priority.",
            Family::Bridge => "The NFQUEUE rules of bridge ports, after the limits.",
        };
        nft_chain(s, "to_nfdhcpd", comment, p_queue, &rules, None);
    }
    let rules: Vec<(bool, String)> = kinds
        .iter()
        .map(|(on, k)| {
            let r = format!(
                "{} meta mark & 0x{ACCEPT_MARK:08x} == 0 counter name \"unanswered_{}\"",
                family.matches(*k),
                k.name
            );
            (*on, r)
        })
        .collect();
    let clear = format!(
        "iifname \"tap*\" meta mark & 0x{ACCEPT_MARK:08x} != 0 meta mark set meta mark & 0x{:08x}",
        !ACCEPT_MARK
    );
    let comment = match (family, queue) {
        (Family::Inet, true) => {
            "Right after the queues: what they passed on without nfdhcpd's ACCEPT mark."
        }
        (Family::Inet, false) => {
            "Right after mangle: what the queues passed on without nfdhcpd's ACCEPT mark."
        }
        (Family::Bridge, true) => {
            "After the queues (and br_netfilter): what they passed on unanswered."
        }
        (Family::Bridge, false) => "After br_netfilter has run iptables (and the queue's verdict).",
    };
    nft_chain(
        s,
        "count_unanswered",
        comment,
        p_count,
        &rules,
        (!kinds.is_empty()).then_some(clear.as_str()),
    );
    s.push_str("}\n");
}

fn nft(plan: &Plan, bridged: bool, queue: bool) -> String {
    let (head, format) = match queue {
        true => (NFT_HEAD, "nft"),
        false => (NFT_LIMITS_HEAD, "nft-limits"),
    };
    let mut text = head.to_string();
    match plan.limit {
        Some((r, b)) => {
            text += &NFT_LIMIT_DOC
                .replace("RATE", &r.to_string())
                .replace("BURST", &b.to_string());
        }
        None => text += NFT_NO_LIMIT_DOC,
    }
    text += NFT_COUNT_DOC;
    let mut s = header(&text, format, plan);
    nft_table(&mut s, plan, Family::Inet, bridged, queue);
    nft_table(&mut s, plan, Family::Bridge, bridged, queue);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/nfdhcpd.conf"));

    fn plan_of(text: &str) -> Plan {
        let loaded = config::parse(Path::new("test.conf"), text).expect("config loads");
        Plan::from_config(&loaded.config)
    }

    fn sample() -> Plan {
        plan_of(SAMPLE)
    }

    /// The sample with `edit` applied to its lines (`key = value` replaced by key name).
    fn sample_with(changes: &[(&str, &str)]) -> Plan {
        let mut out = String::new();
        let mut section = "";
        for line in SAMPLE.lines() {
            let t = line.trim();
            if t.starts_with('[') {
                section = t;
            }
            let key = t.split('=').next().unwrap_or("").trim();
            let full = format!("{section}{key}");
            match changes.iter().find(|(k, _)| *k == full) {
                Some((_, v)) => {
                    let _ = writeln!(out, "{key} = {v}");
                }
                None => {
                    let _ = writeln!(out, "{line}");
                }
            }
            if t.starts_with('[') {
                for (k, v) in changes {
                    if let Some(new) = k.strip_prefix(&format!("{t}+")) {
                        let _ = writeln!(out, "{new} = {v}");
                    }
                }
            }
        }
        plan_of(&out)
    }

    /// The shipped files are the generator's output for the sample config: the single
    /// source of truth is this module (see its doc for the command that regenerates them).
    #[test]
    fn shipped_files_are_the_generators_output_for_the_sample_config() {
        for (format, name, shipped) in [
            (
                Format::Iptables,
                "nfdhcpd-iptables.sh",
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/conf/nfdhcpd-iptables.sh"
                )),
            ),
            (
                Format::Ferm,
                "nfdhcpd.ferm",
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/nfdhcpd.ferm")),
            ),
            (
                Format::Nft,
                "nfdhcpd.nft",
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/nfdhcpd.nft")),
            ),
            (
                Format::NftLimits,
                "nfdhcpd-limits.nft",
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/conf/nfdhcpd-limits.nft"
                )),
            ),
        ] {
            let flag = Format::NAMES[format as usize];
            assert!(
                render(format, &sample(), false) == shipped,
                "conf/{name} is not `nfdhcpd --print-rules {flag}` of conf/nfdhcpd.conf: \
                 regenerate it with `cargo run -q -- --print-rules {flag} -c conf/nfdhcpd.conf \
                 >conf/{name}` (after changing src/rules.rs, never the file alone)"
            );
        }
    }

    #[test]
    fn format_names_round_trip() {
        for (i, name) in Format::NAMES.iter().enumerate() {
            assert_eq!(Format::from_name(name).map(|f| f as usize), Some(i));
        }
        assert_eq!(Format::from_name("ip6tables"), None);
    }

    /// A printed file without its comments (the commented-out rules of the opt-in stay).
    fn body(text: &str) -> String {
        text.lines()
            .filter(|l| {
                let t = l.trim();
                !(t == "#" || t.starts_with("# ") || t.starts_with("#!"))
            })
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// The queue rules of a printed file, the commented-out ones too.
    fn queue_rules(text: &str) -> Vec<&str> {
        text.lines()
            .map(|l| l.trim())
            .map(|l| l.strip_prefix('#').unwrap_or(l))
            .filter(|l| {
                ["iptables ", "ip6tables ", "interface tap+ ", "mod physdev "]
                    .iter()
                    .any(|p| l.starts_with(p))
                    || (l.starts_with("iifname") && l.contains(" queue "))
            })
            .collect()
    }

    #[test]
    fn every_queue_rule_has_the_bypass() {
        for bridged in [false, true] {
            for format in [Format::Iptables, Format::Ferm, Format::Nft] {
                let text = render(format, &sample(), bridged);
                let rules = queue_rules(&text);
                // 4 routed, bridged DHCP, 3 bridged IPv6 (commented out without --bridged).
                assert_eq!(rules.len(), 8, "{format:?} {bridged}:\n{text}");
                for r in rules {
                    assert!(
                        r.ends_with(" --queue-bypass")
                            || r.ends_with(" queue-bypass;")
                            || r.contains(" queue flags bypass to "),
                        "{format:?}: {r}"
                    );
                }
            }
        }
        assert!(queue_rules(&render(Format::NftLimits, &sample(), true)).is_empty());
    }

    #[test]
    fn queue_numbers_come_from_the_config() {
        let p = sample_with(&[
            ("[dhcp]dhcp_queue", "7"),
            ("[ipv6]rs_queue", "8"),
            ("[ipv6]ns_queue", "9"),
            ("[ipv6]dhcpv6_queue", "10"),
        ]);
        let nft = render(Format::Nft, &p, false);
        for q in [7, 8, 9, 10] {
            assert!(
                nft.contains(&format!("queue flags bypass to {q}\n")),
                "{nft}"
            );
        }
        assert!(!nft.contains("to 42"), "{nft}");
        let ipt = render(Format::Iptables, &p, false);
        assert!(
            ipt.contains("--dport 67 -j NFQUEUE --queue-num 7 --queue-bypass"),
            "{ipt}"
        );
        assert!(
            ipt.contains("--dport 547 -j NFQUEUE --queue-num 10 --queue-bypass"),
            "{ipt}"
        );
        let ferm = render(Format::Ferm, &p, false);
        assert!(
            ferm.contains("router-solicitation NFQUEUE queue-num 8 queue-bypass;"),
            "{ferm}"
        );
    }

    #[test]
    fn mode_slaac_has_no_dhcpv6_rule() {
        let p = sample_with(&[("[ipv6]+mode", "slaac")]);
        for format in [
            Format::Iptables,
            Format::Ferm,
            Format::Nft,
            Format::NftLimits,
        ] {
            let text = body(&render(format, &p, true));
            assert!(!text.contains("547"), "{format:?}:\n{text}");
            assert!(!text.contains("dhcp6"), "{format:?}:\n{text}");
            assert!(
                text.contains("_ns") || text.contains("44"),
                "{format:?}:\n{text}"
            );
        }
    }

    #[test]
    fn ipv6_off_has_no_ipv6_rules_and_dhcp_off_no_dhcp_rule() {
        let p = sample_with(&[("[ipv6]enable_ipv6", "no")]);
        for format in [
            Format::Iptables,
            Format::Ferm,
            Format::Nft,
            Format::NftLimits,
        ] {
            let text = body(&render(format, &p, true));
            for word in ["icmpv6", "ip6", "547", "BRIDGED_IPV6=", "_rs", "_ns"] {
                assert!(!text.contains(word), "{format:?} has {word}:\n{text}");
            }
            assert!(text.contains("67"), "{format:?}:\n{text}");
        }
        let p = sample_with(&[("[dhcp]enable_dhcp", "no")]);
        for format in [
            Format::Iptables,
            Format::Ferm,
            Format::Nft,
            Format::NftLimits,
        ] {
            let text = body(&render(format, &p, true));
            for word in ["dport 67", "dhcp4", "BRIDGED=", "domain ip table"] {
                assert!(!text.contains(word), "{format:?} has {word}:\n{text}");
            }
            assert!(text.contains("nd-router-solicit") || text.contains("router-solicitation"));
        }
    }

    #[test]
    fn limits_follow_rate_limit_and_burst() {
        let p = sample_with(&[("[general]+rate_limit", "7"), ("[general]+rate_burst", "0")]);
        for format in [Format::Nft, Format::NftLimits] {
            let text = render(format, &p, false);
            // A burst of 0 is 1, as the daemon's limiter takes it.
            assert_eq!(
                text.matches("limit rate over 7/second burst 1 packets")
                    .count(),
                8,
                "{text}"
            );
        }
        let p = sample_with(&[("[general]+rate_limit", "0")]);
        for format in [Format::Nft, Format::NftLimits] {
            let text = body(&render(format, &p, false));
            for word in ["per_tap_limit", "limit rate", "limited_", "set dhcp4"] {
                assert!(!text.contains(word), "{format:?} has {word}:\n{text}");
            }
            assert!(text.contains("counter name \"unanswered_dhcp4\""), "{text}");
        }
    }

    /// Without --bridged the bridged IPv6 rules are there, switched off; with it, on.
    #[test]
    fn bridged_adds_the_bridged_ipv6_rules() {
        let p = sample();
        let nft = render(Format::Nft, &p, false);
        let off: Vec<&str> = nft
            .lines()
            .filter(|l| l.trim().starts_with("#iifname"))
            .collect();
        // RS, NS, DHCPv6 in the bridge table's limit, queue and count chains.
        assert_eq!(off.len(), 9, "{nft}");
        assert!(off.iter().all(|l| !l.contains("udp dport 67")));
        let on = render(Format::Nft, &p, true);
        assert!(!body(&on).contains("#iifname"), "{on}");
        let uncommented = nft
            .replace("        #iifname", "        iifname")
            .replace("        # Bridged IPv6 (the opt-in, see the header):\n", "");
        assert_eq!(uncommented, on);
        let ipt = render(Format::Iptables, &p, false);
        assert!(ipt.contains("BRIDGED_IPV6=${BRIDGED_IPV6:-no}\n"), "{ipt}");
        let ipt_on = render(Format::Iptables, &p, true);
        assert!(
            ipt_on.contains("BRIDGED_IPV6=${BRIDGED_IPV6:-yes}\n"),
            "{ipt_on}"
        );
        let ferm = render(Format::Ferm, &p, false);
        assert_eq!(ferm.matches("\n    #mod physdev").count(), 3, "{ferm}");
        let ferm_on = render(Format::Ferm, &p, true);
        assert_eq!(ferm_on.matches("\n    mod physdev").count(), 4, "{ferm_on}");
        assert!(!ferm_on.contains("#mod"), "{ferm_on}");
    }

    /// The counters src/nftcount.rs and the SIGUSR1 dump read: table nfdhcpd, both families.
    #[test]
    fn tables_and_counters_are_the_ones_nftcount_reads() {
        for format in [Format::Nft, Format::NftLimits] {
            let text = render(format, &sample(), false);
            for family in ["inet", "bridge"] {
                assert!(
                    text.contains(&format!(
                        "table {family} {}\ndelete table {family} {}\n",
                        crate::nftcount::TABLE,
                        crate::nftcount::TABLE
                    )),
                    "{text}"
                );
            }
            for kind in ["dhcp4", "rs", "ns", "dhcp6"] {
                assert_eq!(
                    text.matches(&format!("counter unanswered_{kind} {{ }}"))
                        .count(),
                    2
                );
                assert_eq!(
                    text.matches(&format!("counter limited_{kind} {{ }}"))
                        .count(),
                    2
                );
            }
        }
        let limits = body(&render(Format::NftLimits, &sample(), false));
        assert!(!limits.contains(" queue "), "{limits}");
    }
}
