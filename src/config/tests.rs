use super::*;

/// A config with every construct of the original's shipped sample (tests/fixtures/README.md).
const ORIGINAL_SAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/compat-nfdhcpd.conf"
));
/// The sample this crate ships.
const SHIPPED_SAMPLE: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/nfdhcpd.conf"));

const FILE: &str = "/etc/nfdhcpd/nfdhcpd.conf";

fn ok(text: &str) -> Loaded {
    match parse(Path::new(FILE), text) {
        Ok(loaded) => loaded,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn problems(text: &str) -> Vec<Problem> {
    match parse(Path::new(FILE), text) {
        Err(ConfigError::Invalid(p)) => p,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// The (section, key, value) of each problem, for compact assertions.
fn keys(problems: &[Problem]) -> Vec<(&str, &str, &str)> {
    problems
        .iter()
        .map(|p| (p.section.as_str(), p.key.as_str(), p.value.as_str()))
        .collect()
}

fn mode_error(text: &str) -> (u8, String) {
    match parse(Path::new(FILE), text) {
        Err(e @ ConfigError::Ipv6Mode { .. }) => (e.exit_code(), e.to_string()),
        other => panic!("expected an IPv6 mode error, got {other:?}"),
    }
}

/// A minimal valid file with IPv4 only, plus `extra` lines in [dhcp].
fn dhcp_only(extra: &str) -> String {
    format!("[dhcp]\ndhcp_queue = 42\nserver_ip = 192.0.2.1\n{extra}\n[ipv6]\nenable_ipv6 = no\n")
}

/// [`dhcp_only`] parsed.
fn parse_dhcp(extra: &str) -> Result<Loaded, ConfigError> {
    parse(Path::new(FILE), &dhcp_only(extra))
}

/// A file with DHCP off and `ipv6` as the [ipv6] section body.
fn ipv6_only(ipv6: &str) -> String {
    format!("[dhcp]\nenable_dhcp = no\n[ipv6]\n{ipv6}\n")
}

#[test]
fn original_sample_loads_unchanged() {
    let loaded = ok(ORIGINAL_SAMPLE);
    let c = loaded.config;
    assert_eq!(c.fixed.general, Paths::default());
    assert_eq!(c.live.general, Limits::default());
    assert_eq!(c.fixed.general.datapath, Path::new("/var/lib/nfdhcpd"));
    assert_eq!(c.fixed.general.user, "nobody");
    assert_eq!(c.fixed.dhcp, Some(DhcpQueue { dhcp_queue: 42 }));
    assert_eq!(
        c.live.dhcp.unwrap(),
        Dhcp {
            lease_lifetime: 604_800,
            // The sample has "3600 \t# 1 hour": a tab before the inline comment.
            lease_renewal: 3600,
            server_ip: Some(Ipv4Addr::new(192, 0, 2, 1)),
            server_on_link: false,
            nameservers: vec![Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(192, 0, 2, 3)],
            domain: Some("example.com".into()),
            domain_search: Default::default(),
            ntp_servers: vec![],
            ipv6_only_wait: 1800,
        }
    );
    assert_eq!(
        c.fixed.ipv6,
        Some(Ipv6Queues {
            mode: Ipv6Mode::SlaacDhcpv6,
            rs_queue: 43,
            ns_queue: 44,
            dhcpv6_queue: Some(45),
        })
    );
    assert_eq!(
        c.live.ipv6.unwrap(),
        Ipv6 {
            ra_period: 300,
            nameservers: vec![
                "2001:db8:100::1".parse().unwrap(),
                "2001:db8:200::2".parse().unwrap()
            ],
            domains: vec!["example.com".into()],
            ntp_servers: vec![],
            pref64: None,
            lease_lifetime: DEFAULT_LEASE_LIFETIME,
            lease_renewal: DEFAULT_LEASE_RENEWAL,
        }
    );
    assert_eq!(keys(&loaded.warnings), [("ipv6", "enable_dhcpv6", "yes")]);
}

#[test]
fn shipped_sample_loads_without_warnings() {
    let loaded = ok(SHIPPED_SAMPLE);
    assert_eq!(loaded.warnings, []);
    // Same meaning as the original's sample.
    assert_eq!(loaded.config, ok(ORIGINAL_SAMPLE).config);
}

#[test]
fn defaults_fill_general_and_leases() {
    let c = ok(&dhcp_only("")).config;
    assert_eq!(c.fixed.general, Paths::default());
    assert_eq!(c.live.general, Limits::default());
    let dhcp = c.live.dhcp.unwrap();
    assert_eq!((dhcp.lease_lifetime, dhcp.lease_renewal), (604_800, 3600));
    assert_eq!((dhcp.nameservers, dhcp.domain), (vec![], None));
    assert_eq!((c.fixed.ipv6, c.live.ipv6), (None, None));
}

#[test]
fn dhcp_queue_zero_is_valid() {
    let text = "[dhcp]\ndhcp_queue = 0\nserver_ip = 192.0.2.1\n[ipv6]\nenable_ipv6 = no\n";
    assert_eq!(ok(text).config.fixed.dhcp.unwrap().dhcp_queue, 0);
}

#[test]
fn ipv6_queue_zero_is_valid() {
    // The original tested truthiness, so queue 0 counted as "not set".
    let c = ok(&ipv6_only("rs_queue = 0\nns_queue = 1")).config;
    let ipv6 = c.fixed.ipv6.unwrap();
    assert_eq!(
        (ipv6.mode, ipv6.rs_queue, ipv6.ns_queue),
        (Ipv6Mode::Slaac, 0, 1)
    );
}

#[test]
fn disabled_dhcp_needs_no_keys() {
    let c = ok(&ipv6_only("rs_queue = 43\nns_queue = 44")).config;
    assert_eq!((c.fixed.dhcp, c.live.dhcp), (None, None));
    // Nothing else in a disabled [dhcp] is checked.
    let text = "[dhcp]\nenable_dhcp = no\ndhcp_queue = banana\nserver_ip = ::1\n[ipv6]\nenable_ipv6 = no\n";
    let c = ok(text).config;
    assert_eq!((c.live.dhcp, c.live.ipv6), (None, None));
    assert_eq!((c.fixed.dhcp, c.fixed.ipv6), (None, None));
}

#[test]
fn absent_dhcp_section_means_enabled_and_needs_queue() {
    let p = problems("[ipv6]\nenable_ipv6 = no\n");
    assert_eq!(
        keys(&p),
        [("dhcp", "dhcp_queue", ""), ("dhcp", "server_ip", "")]
    );
    assert!(
        p[0].reason.contains("required when enable_dhcp = yes"),
        "{}",
        p[0]
    );
}

#[test]
fn disabled_ipv6_needs_no_section() {
    let c = ok("[dhcp]\nenable_dhcp = no\n[ipv6]\nenable_ipv6 = no\nmode = bogus\nra_period = 0\n")
        .config;
    assert_eq!((c.fixed.ipv6, c.live.ipv6), (None, None));
    let c = ok(&dhcp_only("")).config;
    assert_eq!((c.fixed.ipv6, c.live.ipv6), (None, None));
}

#[test]
fn server_ip_optional_with_server_on_link() {
    let text = "[dhcp]\ndhcp_queue = 42\nserver_on_link = yes\n[ipv6]\nenable_ipv6 = no\n";
    let dhcp = ok(text).config.live.dhcp.unwrap();
    assert_eq!((dhcp.server_ip, dhcp.server_on_link), (None, true));
    let p = problems("[dhcp]\ndhcp_queue = 42\n[ipv6]\nenable_ipv6 = no\n");
    assert_eq!(keys(&p), [("dhcp", "server_ip", "")]);
    assert!(p[0].reason.contains("server_on_link"));
}

#[test]
fn booleans_in_every_spelling() {
    for (word, value) in [
        ("yes", true),
        ("No", false),
        ("TRUE", true),
        ("false", false),
        ("on", true),
        ("Off", false),
        ("1", true),
        ("0", false),
    ] {
        let dhcp = ok(&dhcp_only(&format!("server_on_link = {word}")))
            .config
            .live
            .dhcp
            .unwrap();
        assert_eq!(dhcp.server_on_link, value, "{word}");
    }
    let p = problems(&dhcp_only("server_on_link = maybe"));
    assert_eq!(keys(&p), [("dhcp", "server_on_link", "maybe")]);
    assert!(p[0].reason.contains("yes or no"));
}

#[test]
fn bad_values_are_named_by_file_section_key_value() {
    // (A relative path or a domain that is not a host name are warnings since issue 12:
    // the original accepted them; see relative_paths_taken_from_root, lenient_domains.)
    let text = "[general]\nrate_limit = lots\nuser = no body\n\
                    [dhcp]\ndhcp_queue = 65536\nlease_lifetime = 0\nlease_renewal = -5\nserver_ip = 2001:db8::1\n\
                    nameservers = 192.0.2.2, 192.0.2.300\ndomain = exa mple.com\n\
                    [ipv6]\nmode = stateless\nra_period = 1h\nrs_queue = 0x2b\nns_queue = +44\n\
                    nameservers = 192.0.2.2\ndomains = example.com, a..b\n";
    let p = problems(text);
    assert_eq!(
        keys(&p),
        [
            ("general", "user", "no body"),
            ("general", "rate_limit", "lots"),
            ("dhcp", "dhcp_queue", "65536"),
            ("dhcp", "lease_lifetime", "0"),
            ("dhcp", "lease_renewal", "-5"),
            ("dhcp", "server_ip", "2001:db8::1"),
            ("dhcp", "nameservers", "192.0.2.2, 192.0.2.300"),
            ("dhcp", "domain", "exa mple.com"),
            ("ipv6", "mode", "stateless"),
            ("ipv6", "ra_period", "1h"),
            ("ipv6", "rs_queue", "0x2b"),
            ("ipv6", "ns_queue", "+44"),
            ("ipv6", "nameservers", "192.0.2.2"),
            ("ipv6", "domains", "example.com, a..b"),
        ]
    );
    assert!(p.iter().all(|p| p.file == Path::new(FILE)));
    let shown: Vec<String> = p.iter().map(Problem::to_string).collect();
    assert_eq!(
        shown[2],
        format!("{FILE}: [dhcp] dhcp_queue = \"65536\": not an integer from 0 to 65535")
    );
    assert!(
        shown[3].ends_with("not an integer from 1 to 4294967295"),
        "{}",
        shown[3]
    );
    assert!(
        shown[5].contains("is an IPv6 address; this key takes IPv4"),
        "{}",
        shown[5]
    );
    assert!(
        shown[6].contains("\"192.0.2.300\" is not an IPv4 address"),
        "{}",
        shown[6]
    );
    assert!(
        shown[12].contains("is an IPv4 address; this key takes IPv6"),
        "{}",
        shown[12]
    );
    assert!(shown[13].contains("\"a..b\""), "{}", shown[13]);
    // Display joins them one per line.
    let err = ConfigError::Invalid(p);
    assert_eq!(err.to_string().lines().count(), 14);
    assert_eq!(err.exit_code(), 1);
}

#[test]
fn non_unicast_addresses_refused() {
    for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.1"] {
        let p = problems(&dhcp_only(&format!("nameservers = {bad}")));
        assert_eq!(keys(&p), [("dhcp", "nameservers", bad)]);
    }
    let p = problems(&ipv6_only(
        "rs_queue = 1\nns_queue = 2\nnameservers = ff02::1",
    ));
    assert_eq!(keys(&p), [("ipv6", "nameservers", "ff02::1")]);
}

#[test]
fn ntp_servers_are_unicast_ipv6_addresses() {
    let v6 = |text: &str| ok(&ipv6_only(text)).config.live.ipv6.unwrap();
    assert_eq!(
        v6("rs_queue = 1\nns_queue = 2").ntp_servers,
        Vec::<Ipv6Addr>::new()
    );
    assert_eq!(
        v6("rs_queue = 1\nns_queue = 2\nntp_servers = 2001:db8::123, \"2001:db8:1::123\"")
            .ntp_servers,
        [
            "2001:db8::123".parse::<Ipv6Addr>().unwrap(),
            "2001:db8:1::123".parse().unwrap()
        ]
    );
    for bad in ["ff02::101", "192.0.2.123", "ntp.example.org"] {
        let p = problems(&ipv6_only(&format!(
            "rs_queue = 1\nns_queue = 2\nntp_servers = {bad}"
        )));
        assert_eq!(keys(&p), [("ipv6", "ntp_servers", bad)]);
    }
}

#[test]
fn pref64_is_a_nat64_prefix_of_a_pref64_length() {
    let v6 = |text: &str| ok(&ipv6_only(text)).config.live.ipv6.unwrap();
    assert_eq!(v6("rs_queue = 1\nns_queue = 2").pref64, None);
    for good in [
        "2001:db8:64::/96",
        "2001:db8:64::/64",
        "2001:db8::/32",
        "2001:db8:6400::/40",
    ] {
        assert_eq!(
            v6(&format!("rs_queue = 1\nns_queue = 2\npref64 = {good}")).pref64,
            Some(good.parse().unwrap()),
            "{good}"
        );
    }
    // The shipped sample's commented line, uncommented, is a valid prefix.
    let sample = SHIPPED_SAMPLE.replace("#pref64 =", "pref64 =");
    assert_eq!(
        ok(&sample).config.live.ipv6.unwrap().pref64,
        Some("2001:db8:64::/96".parse().unwrap())
    );
    for bad in [
        "2001:db8:64::/80",
        "2001:db8:64::/128",
        "2001:db8:64::1/96",
        "2001:db8:64::",
        "192.0.2.0/24",
        "2001:db8:64::/x",
    ] {
        let p = problems(&ipv6_only(&format!(
            "rs_queue = 1\nns_queue = 2\npref64 = {bad}"
        )));
        assert_eq!(keys(&p), [("ipv6", "pref64", bad)]);
    }
}

#[test]
fn renewal_not_below_lifetime_warns() {
    // The original sent it as it was (issue 12): a warning, and no T2 (see reply::dhcp4).
    let loaded = ok(&dhcp_only("lease_lifetime = 3600\nlease_renewal = 3600"));
    assert_eq!(keys(&loaded.warnings), [("dhcp", "lease_renewal", "3600")]);
    assert!(loaded.warnings[0]
        .reason
        .contains("below lease_lifetime (3600)"));
    assert_eq!(loaded.config.live.dhcp.unwrap().lease_renewal, 3600);
    // Against the default lifetime, too.
    let loaded = ok(&dhcp_only("lease_renewal = 604800"));
    assert_eq!(
        keys(&loaded.warnings),
        [("dhcp", "lease_renewal", "604800")]
    );
    // No second complaint when the lifetime itself is invalid.
    let p = problems(&dhcp_only("lease_lifetime = x\nlease_renewal = 3600"));
    assert_eq!(keys(&p), [("dhcp", "lease_lifetime", "x")]);
}

#[test]
fn lists_trim_skip_empty_and_unquote() {
    let dhcp = ok(&dhcp_only("nameservers = 192.0.2.2 ,, 192.0.2.3,"))
        .config
        .live
        .dhcp
        .unwrap();
    assert_eq!(
        dhcp.nameservers,
        [Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(192, 0, 2, 3)]
    );
    let dhcp = ok(&dhcp_only("nameservers = \"192.0.2.2\", \"192.0.2.3\""))
        .config
        .live
        .dhcp
        .unwrap();
    assert_eq!(
        dhcp.nameservers,
        [Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(192, 0, 2, 3)]
    );
    let dhcp = ok(&dhcp_only("nameservers = 192.0.2.9"))
        .config
        .live
        .dhcp
        .unwrap();
    assert_eq!(dhcp.nameservers, [Ipv4Addr::new(192, 0, 2, 9)]);
    let ipv6 = ok(&ipv6_only(
        "rs_queue = 1\nns_queue = 2\ndomains = a.example., b.example",
    ))
    .config
    .live
    .ipv6
    .unwrap();
    assert_eq!(ipv6.domains, ["a.example", "b.example"]);
}

#[test]
fn empty_value_means_unset() {
    let dhcp = ok(&dhcp_only("domain =\nnameservers = \"\"\nlease_lifetime ="))
        .config
        .live
        .dhcp
        .unwrap();
    assert_eq!(
        (dhcp.domain, dhcp.nameservers, dhcp.lease_lifetime),
        (None, vec![], 604_800)
    );
}

#[test]
fn domain_trailing_dot_stripped() {
    let dhcp = ok(&dhcp_only("domain = example.com."))
        .config
        .live
        .dhcp
        .unwrap();
    assert_eq!(dhcp.domain.as_deref(), Some("example.com"));
}

#[test]
fn dns_name_rules() {
    assert_eq!(dns_name("vm-1.Example.COM."), Ok("vm-1.Example.COM"));
    assert_eq!(dns_name(&"a".repeat(63)), Ok(&*"a".repeat(63)));
    let long = [
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61),
    ]
    .join(".");
    assert_eq!(long.len(), 253);
    assert!(dns_name(&long).is_ok());
    for bad in [
        "",
        ".",
        "a..b",
        ".a",
        "a b",
        "a_b",
        "-a",
        "a-",
        "é.example",
        "a\n",
        &"a".repeat(64),
        &format!("{long}x"),
    ] {
        assert!(dns_name(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn relative_paths_taken_from_root() {
    // The original accepted them and, detached, ran in / (issue 12): a warning each.
    let text = "[general]\npidfile = nfdhcpd.pid\nlogdir = ./log\n[dhcp]\nenable_dhcp = no\n[ipv6]\nenable_ipv6 = no\n";
    let loaded = ok(text);
    assert_eq!(
        keys(&loaded.warnings),
        [
            ("general", "pidfile", "nfdhcpd.pid"),
            ("general", "logdir", "./log")
        ]
    );
    assert!(loaded.warnings[0].reason.contains("taken from /"));
    let paths = loaded.config.fixed.general;
    assert_eq!(paths.pidfile, Path::new("/nfdhcpd.pid"));
    assert_eq!(paths.logdir, Path::new("/./log"));
}

#[test]
fn lenient_domains() {
    // Sent as written, as the original did, when the options can carry them.
    let loaded = ok(&dhcp_only("domain = exa_mple.com"));
    assert_eq!(keys(&loaded.warnings), [("dhcp", "domain", "exa_mple.com")]);
    assert_eq!(
        loaded.config.live.dhcp.unwrap().domain.as_deref(),
        Some("exa_mple.com")
    );
    let loaded = ok(&ipv6_only(
        "rs_queue = 1\nns_queue = 2\ndomains = -bad.example, ok.example",
    ));
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert_eq!(
        loaded.config.live.ipv6.unwrap().domains,
        ["-bad.example", "ok.example"]
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text =
        "[general]\nuser = a:b\n[dhcp]\nenable_dhcp = yes\n[ipv6]\nra_period = 0\nrs_queue = -1\n";
    let p = problems(text);
    assert_eq!(
        keys(&p),
        [
            ("general", "user", "a:b"),
            ("dhcp", "dhcp_queue", ""),
            ("dhcp", "server_ip", ""),
            ("ipv6", "ra_period", "0"),
            ("ipv6", "rs_queue", "-1"),
        ]
    );
}

#[test]
fn invalid_enable_flag_stops_checking_its_section() {
    let p = problems("[dhcp]\nenable_dhcp = perhaps\ndhcp_queue = x\n[ipv6]\nenable_ipv6 = no\n");
    assert_eq!(keys(&p), [("dhcp", "enable_dhcp", "perhaps")]);
}

#[test]
fn auto_mode_picks_by_queues() {
    let ipv6 = ok(&ipv6_only(
        "rs_queue = 43\nns_queue = 44\ndhcpv6_queue = 45",
    ))
    .config
    .fixed
    .ipv6
    .unwrap();
    assert_eq!(
        (ipv6.mode, ipv6.dhcpv6_queue),
        (Ipv6Mode::SlaacDhcpv6, Some(45))
    );
    let ipv6 = ok(&ipv6_only("rs_queue = 43\nns_queue = 44"))
        .config
        .fixed
        .ipv6
        .unwrap();
    assert_eq!((ipv6.mode, ipv6.dhcpv6_queue), (Ipv6Mode::Slaac, None));
    let ipv6 = ok(&ipv6_only("mode = auto\nrs_queue = 43\nns_queue = 44"))
        .config
        .fixed
        .ipv6
        .unwrap();
    assert_eq!(ipv6.mode, Ipv6Mode::Slaac);
}

#[test]
fn auto_mode_without_queues_exits_2() {
    let (code, msg) = mode_error(&ipv6_only(""));
    assert_eq!(code, 2);
    assert!(msg.starts_with(FILE), "{msg}");
    assert!(
        msg.contains("missing: rs_queue, ns_queue, dhcpv6_queue"),
        "{msg}"
    );
    assert!(msg.contains("enable_ipv6 = no"), "{msg}");
    let (code, msg) = mode_error(&ipv6_only("rs_queue = 43\ndhcpv6_queue = 45"));
    assert_eq!(code, 2);
    assert!(msg.contains("missing: ns_queue"), "{msg}");
    // No [ipv6] section at all: IPv6 is on by default, as in the original.
    assert_eq!(mode_error("[dhcp]\nenable_dhcp = no\n").0, 2);
}

/// The original exited 4 ("not supported") here; auto never picks the stateful mode, and
/// with only dhcpv6_queue no mode has its queues.
#[test]
fn auto_mode_with_only_dhcpv6_exits_2() {
    let (code, msg) = mode_error(&ipv6_only("dhcpv6_queue = 45"));
    assert_eq!(code, 2);
    assert!(msg.contains("missing: rs_queue, ns_queue"), "{msg}");
}

#[test]
fn explicit_mode_missing_queues_exits_3() {
    let (code, msg) = mode_error(&ipv6_only("mode = slaac\nrs_queue = 43"));
    assert_eq!(code, 3);
    assert!(
        msg.contains("mode slaac needs rs_queue, ns_queue; missing: ns_queue"),
        "{msg}"
    );
    let (code, msg) = mode_error(&ipv6_only(
        "mode = slaac+dhcpv6\nrs_queue = 43\nns_queue = 44",
    ));
    assert_eq!(code, 3);
    assert!(
        msg.contains("needs rs_queue, ns_queue, dhcpv6_queue; missing: dhcpv6_queue"),
        "{msg}"
    );
}

#[test]
fn explicit_modes_with_their_queues() {
    let ipv6 = ok(&ipv6_only(
        "mode = slaac+dhcpv6\nrs_queue = 1\nns_queue = 2\ndhcpv6_queue = 3",
    ))
    .config
    .fixed
    .ipv6
    .unwrap();
    assert_eq!(
        (ipv6.mode, ipv6.rs_queue, ipv6.ns_queue, ipv6.dhcpv6_queue),
        (Ipv6Mode::SlaacDhcpv6, 1, 2, Some(3))
    );
    // slaac with a dhcpv6_queue: the queue is unused, and the operator is told.
    let loaded = ok(&ipv6_only(
        "mode = slaac\nrs_queue = 1\nns_queue = 2\ndhcpv6_queue = 3",
    ));
    let ipv6 = loaded.config.fixed.ipv6.unwrap();
    assert_eq!((ipv6.mode, ipv6.dhcpv6_queue), (Ipv6Mode::Slaac, None));
    assert_eq!(keys(&loaded.warnings), [("ipv6", "dhcpv6_queue", "3")]);
}

/// Mode dhcpv6 (the original exited 4) runs with all three queues, its lease times from
/// `[ipv6]`; without the RA queues it is a missing-queue error like the other modes.
#[test]
fn explicit_dhcpv6_mode_is_served() {
    let (code, msg) = mode_error(&ipv6_only("mode = dhcpv6\ndhcpv6_queue = 45"));
    assert_eq!(code, 3);
    assert!(
        msg.contains(
            "mode dhcpv6 needs rs_queue, ns_queue, dhcpv6_queue; missing: rs_queue, ns_queue"
        ),
        "{msg}"
    );
    let loaded = ok(&ipv6_only(
        "mode = dhcpv6\nrs_queue = 1\nns_queue = 2\ndhcpv6_queue = 3\n\
         lease_lifetime = 600\nlease_renewal = 120",
    ));
    let q = loaded.config.fixed.ipv6.unwrap();
    assert_eq!(
        (q.mode, q.rs_queue, q.ns_queue, q.dhcpv6_queue),
        (Ipv6Mode::Dhcpv6, 1, 2, Some(3))
    );
    let live = loaded.config.live.ipv6.unwrap();
    assert_eq!((live.lease_lifetime, live.lease_renewal), (600, 120));
    assert_eq!(loaded.warnings, []);
    // The shipped sample with its commented mode and lease lines uncommented.
    let sample = SHIPPED_SAMPLE
        .replace("#mode = auto", "mode = dhcpv6")
        .replace("#lease_lifetime =", "lease_lifetime =")
        .replace("#lease_renewal =", "lease_renewal =");
    let loaded = ok(&sample);
    assert_eq!(loaded.warnings, []);
    assert_eq!(loaded.config.fixed.ipv6.unwrap().mode, Ipv6Mode::Dhcpv6);
    let live = loaded.config.live.ipv6.unwrap();
    assert_eq!((live.lease_lifetime, live.lease_renewal), (604_800, 3_600));
    // Renewal not below the lifetime: warned, as in [dhcp].
    let loaded = ok(&ipv6_only(
        "mode = dhcpv6\nrs_queue = 1\nns_queue = 2\ndhcpv6_queue = 3\nlease_lifetime = 60\nlease_renewal = 60",
    ));
    assert_eq!(keys(&loaded.warnings), [("ipv6", "lease_renewal", "60")]);
    let zero = ipv6_only(
        "mode = dhcpv6\nrs_queue = 1\nns_queue = 2\ndhcpv6_queue = 3\nlease_lifetime = 0",
    );
    let err = parse(Path::new(FILE), &zero).unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("[ipv6] lease_lifetime"), "{err}");
}

#[test]
fn mode_errors_wait_for_other_problems() {
    // A config error (exit 1) is reported before the mode is resolved.
    let p = problems("[dhcp]\nenable_dhcp = no\n[ipv6]\nra_period = x\n");
    assert_eq!(keys(&p), [("ipv6", "ra_period", "x")]);
}

#[test]
fn deprecated_dhcp_queue_warns() {
    let loaded = ok(&ipv6_only("rs_queue = 43\nns_queue = 44\ndhcp_queue = 45"));
    assert_eq!(loaded.config.fixed.ipv6.unwrap().dhcpv6_queue, Some(45));
    assert_eq!(keys(&loaded.warnings), [("ipv6", "dhcp_queue", "45")]);
    assert!(loaded.warnings[0]
        .reason
        .contains("rename it to dhcpv6_queue"));
}

#[test]
fn deprecated_and_new_queue_together_use_the_new() {
    // Configs from the 0.13.5 rename; the original used dhcpv6_queue (issue 12).
    let loaded = ok(&ipv6_only(
        "rs_queue = 43\nns_queue = 44\ndhcp_queue = 45\ndhcpv6_queue = 46",
    ));
    assert_eq!(keys(&loaded.warnings), [("ipv6", "dhcp_queue", "45")]);
    assert_eq!(loaded.config.fixed.ipv6.unwrap().dhcpv6_queue, Some(46));
}

#[test]
fn shared_queue_refused() {
    let text = "[dhcp]\ndhcp_queue = 42\nserver_ip = 192.0.2.1\n[ipv6]\nrs_queue = 42\nns_queue = 44\ndhcpv6_queue = 44\n";
    let p = problems(text);
    assert_eq!(
        keys(&p),
        [("ipv6", "rs_queue", "42"), ("ipv6", "dhcpv6_queue", "44")]
    );
    assert!(p[0].reason.contains("also [dhcp] dhcp_queue"), "{}", p[0]);
}

#[test]
fn unknown_keys_and_sections_warn() {
    let text = format!(
        "{}[extra]\nfoo = 1\n",
        dhcp_only("colour = blue\nDomain = example.com")
    );
    let loaded = ok(&format!("stray = 1\n{text}"));
    assert_eq!(
        keys(&loaded.warnings),
        [
            ("", "stray", "1"),
            ("extra", "", ""),
            ("dhcp", "colour", "blue"),
            ("dhcp", "Domain", "example.com")
        ]
    );
    assert!(loaded.warnings[3].reason.contains("did you mean domain?"));
    assert_eq!(
        loaded.warnings[1].to_string(),
        format!("{FILE}: [extra]: unknown section; its keys are ignored")
    );
    let loaded = ok(&format!("[DHCP]\n{}", dhcp_only("")));
    assert!(loaded.warnings[0].reason.contains("did you mean dhcp?"));
}

#[test]
fn inline_comments_with_tabs_and_spaces() {
    let text = "[dhcp]\ndhcp_queue = 42\t# tab before\nserver_ip = 192.0.2.1 \t # mixed\n\
                    lease_renewal = 60\t\t;semicolon\ndomain = example.com#not-a-comment\n[ipv6]\nenable_ipv6 = no # off\n";
    // configobj ended an unquoted value at '#' even without a space before it (issue 12:
    // `604800# 1 week` loaded there); rust-ini alone would keep it in the value. Accepted,
    // with a warning naming the line and the value kept.
    let loaded = ok(text);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(
        loaded.warnings[0]
            .reason
            .starts_with("line 5: '#' starts a comment even without a space"),
        "{:?}",
        loaded.warnings
    );
    let c = loaded.config;
    let (queue, dhcp) = (c.fixed.dhcp.unwrap(), c.live.dhcp.unwrap());
    assert_eq!((queue.dhcp_queue, dhcp.lease_renewal), (42, 60));
    assert_eq!(dhcp.domain.as_deref(), Some("example.com"));
    let week = ok(&dhcp_only(
        "lease_lifetime = 604800# 1 week\ndomain = \"example.org\"#c",
    ));
    assert_eq!(week.warnings.len(), 2, "{:?}", week.warnings);
    assert_eq!(
        week.config.live.dhcp.as_ref().unwrap().domain.as_deref(),
        Some("example.org")
    );
    assert_eq!(week.config.live.dhcp.unwrap().lease_lifetime, 604_800);
}

#[test]
fn indented_lines_and_comments() {
    // rust-ini alone glues an indented comment onto the next key's name.
    let text = "  [dhcp]\n  # indented comment\n\tdhcp_queue = 42\n    server_ip = 192.0.2.1\n[ipv6]\n\t; c\nenable_ipv6 = no\n";
    let loaded = ok(text);
    assert_eq!(loaded.config.fixed.dhcp.unwrap().dhcp_queue, 42);
    assert_eq!(loaded.warnings, []);
}

#[test]
fn backslashes_are_literal() {
    // With rust-ini's escapes on, "\t" would become a tab; configobj had no escapes.
    let loaded = ok(&dhcp_only("domain = a\\tb"));
    assert_eq!(
        loaded.config.live.dhcp.unwrap().domain.as_deref(),
        Some("a\\tb")
    );
}

#[test]
fn crlf_line_endings() {
    let text = dhcp_only("domain = example.com").replace('\n', "\r\n");
    assert_eq!(
        ok(&text).config.live.dhcp.unwrap().domain.as_deref(),
        Some("example.com")
    );
}

#[test]
fn duplicate_key_refused() {
    let p = problems(&dhcp_only("dhcp_queue = 43"));
    assert_eq!(keys(&p), [("dhcp", "dhcp_queue", "")]);
    assert_eq!(p[0].reason, "set 2 times (\"42\", \"43\"); keep one");
    assert_eq!(
        p[0].to_string(),
        format!("{FILE}: [dhcp] dhcp_queue: set 2 times (\"42\", \"43\"); keep one")
    );
}

#[test]
fn duplicate_section_refused() {
    let text = format!("{}[dhcp]\ndomain = example.com\n", dhcp_only(""));
    let p = problems(&text);
    assert_eq!(keys(&p), [("dhcp", "", "")]);
    assert!(p[0].reason.contains("more than once"));
    // A key repeated across the two copies is a duplicate too.
    let text = format!("{}[dhcp]\ndhcp_queue = 42\n", dhcp_only(""));
    assert_eq!(
        keys(&problems(&text)),
        [("dhcp", "", ""), ("dhcp", "dhcp_queue", "")]
    );
}

#[test]
fn malformed_lines_reported_with_line_numbers() {
    let text = "[dhcp]\ndhcp_queue 42\nserver_ip = 192.0.2.1\n= 5\ndomain = \"example.com\nnameservers:x = 1\n[ipv6]\nenable_ipv6 = no\n";
    let p = problems(text);
    assert_eq!(
            p.iter().map(|p| p.reason.as_str()).collect::<Vec<_>>(),
            [
                "line 2: not a `key = value` line, a [section] header or a # comment: \"dhcp_queue 42\"",
                "line 4: no key before '=': \"= 5\"",
                "line 5: unclosed quote: \"domain = \\\"example.com\"",
                "line 6: ':' in a key name: \"nameservers:x = 1\"",
                // The rest of the file is still checked: dhcp_queue is missing.
                "missing; required when enable_dhcp = yes",
            ]
        );
}

#[test]
fn malformed_section_header_stops_after_structure() {
    let p = problems("[dhcp\ndhcp_queue = 42\n[ipv6] junk\nfoo\n");
    assert_eq!(
        p.iter().map(|p| p.reason.as_str()).collect::<Vec<_>>(),
        [
            "line 1: section header without a closing ']': \"[dhcp\"",
            "line 3: text after the section header (only a # comment may follow): \"[ipv6] junk\"",
            "line 4: not a `key = value` line, a [section] header or a # comment: \"foo\"",
        ]
    );
    assert_eq!(
        p[0].to_string(),
        format!("{FILE}: line 1: section header without a closing ']': \"[dhcp\"")
    );
}

#[test]
fn read_error_names_the_path() {
    let path = Path::new("/nonexistent/nfdhcpd.conf");
    let err = load(path).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.to_string()
            .starts_with("cannot read /nonexistent/nfdhcpd.conf: "),
        "{err}"
    );
}

#[test]
fn load_reads_the_file() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/compat-nfdhcpd.conf"
    ));
    assert_eq!(load(path).unwrap().config, ok(ORIGINAL_SAMPLE).config);
}

#[test]
fn byte_order_mark_is_accepted() {
    let text = format!("\u{feff}{}", dhcp_only(""));
    assert_eq!(ok(&text).config, ok(&dhcp_only("")).config);
}

#[test]
fn non_utf8_is_reported_with_its_line() {
    let dir = std::env::temp_dir().join(format!("nfdhcpd-config-latin1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("nfdhcpd.conf");
    let mut bytes = dhcp_only("").into_bytes();
    // A comment with "café" in Latin-1 as line 2.
    let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let latin1: &[u8] = b"# caf\xe9\n";
    bytes.splice(at..at, latin1.iter().copied());
    std::fs::write(&path, &bytes).unwrap();
    let err = load(&path).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(err.exit_code(), 1);
    let msg = err.to_string();
    assert!(
        msg.contains("nfdhcpd.conf: line 2: not UTF-8 text"),
        "{msg}"
    );
}

#[test]
fn dhcp_domain_search_is_encoded_once_and_checked() {
    let c = parse_dhcp("domain_search = eng.example.com, example.com.")
        .unwrap()
        .config;
    let d = c.live.dhcp.unwrap();
    assert_eq!(d.domain_search.names(), ["eng.example.com", "example.com"]);
    // The second name is a pointer to the first one's suffix (offset 4).
    assert_eq!(&d.domain_search.wire()[17..], &[0xc0, 0x04]);
    let long: Vec<String> = (0..9)
        .map(|i| format!("{i}{}.example", "x".repeat(60)))
        .collect();
    let e = parse_dhcp(&format!("domain_search = {}", long.join(", ")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[dhcp] domain_search"), "{e}");
    assert!(e.contains("more than 510 bytes"), "{e}");
    let e = parse_dhcp("domain_search = a..b").unwrap_err().to_string();
    assert!(e.contains("is not a DNS name"), "{e}");
}

#[test]
fn dhcp_ntp_servers_are_unicast_ipv4_addresses_and_live() {
    let conf = parse_dhcp;
    let d = |extra: &str| conf(extra).unwrap().config.live.dhcp.unwrap();
    assert_eq!(d("").ntp_servers, Vec::<Ipv4Addr>::new());
    assert_eq!(
        d("ntp_servers = 192.0.2.123, \"198.51.100.123\"").ntp_servers,
        [
            Ipv4Addr::new(192, 0, 2, 123),
            Ipv4Addr::new(198, 51, 100, 123)
        ]
    );
    for bad in [
        "224.0.1.1",
        "2001:db8::123",
        "ntp.example.org",
        "255.255.255.255",
    ] {
        let e = conf(&format!("ntp_servers = {bad}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("[dhcp] ntp_servers"), "{e}");
    }
    let many: Vec<String> = (1..=64).map(|i| format!("192.0.2.{i}")).collect();
    let e = conf(&format!("ntp_servers = {}", many.join(",")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("at most 63"), "{e}");
    assert_eq!(
        d(&format!("ntp_servers = {}", many[..63].join(",")))
            .ntp_servers
            .len(),
        63
    );
    let (old, new) = (
        conf("ntp_servers = 192.0.2.123").unwrap().config,
        conf("").unwrap().config,
    );
    assert_eq!(old.fixed.diff(&new.fixed), Vec::<String>::new());
    assert_eq!(
        old.live.diff(&new.live),
        [("dhcp.ntp_servers".to_string(), "[]".to_string())]
    );
}

#[test]
fn dhcp_ipv6_only_wait_defaults_to_1800_and_is_at_least_300() {
    let conf = parse_dhcp;
    let wait = |extra: &str| {
        let loaded = conf(extra).unwrap();
        let w = loaded.config.live.dhcp.unwrap().ipv6_only_wait;
        let warned: Vec<String> = keys(&loaded.warnings)
            .iter()
            .map(|(s, k, v)| format!("{s}.{k}={v}"))
            .collect();
        (w, warned)
    };
    assert_eq!(wait(""), (1800, vec![]));
    assert_eq!(wait("ipv6_only_wait = 300"), (300, vec![]));
    assert_eq!(wait("ipv6_only_wait = 4294967295"), (u32::MAX, vec![]));
    for low in ["0", "299"] {
        assert_eq!(
            wait(&format!("ipv6_only_wait = {low}")),
            (300, vec![format!("dhcp.ipv6_only_wait={low}")])
        );
    }
    for bad in ["-1", "4294967296", "30m"] {
        let e = conf(&format!("ipv6_only_wait = {bad}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("[dhcp] ipv6_only_wait"), "{e}");
    }
    let (old, new) = (
        conf("").unwrap().config,
        conf("ipv6_only_wait = 600").unwrap().config,
    );
    assert_eq!(old.fixed.diff(&new.fixed), Vec::<String>::new());
    assert_eq!(
        old.live.diff(&new.live),
        [("dhcp.ipv6_only_wait".to_string(), "600".to_string())]
    );
}

#[test]
fn dhcp_domain_search_applies_on_reload() {
    let conf = |list: &str| {
        parse_dhcp(&format!("domain_search = {list}"))
            .unwrap()
            .config
    };
    let (old, new) = (conf("example.com"), conf("example.org, example.com"));
    assert_eq!(old.fixed.diff(&new.fixed), Vec::<String>::new());
    assert_eq!(
        old.live.diff(&new.live),
        [(
            "dhcp.domain_search".to_string(),
            "[\"example.org\", \"example.com\"]".to_string()
        )]
    );
}

/// `control_socket` is on by default, off when written empty; `metrics_file` off unless
/// set. Both are paths (relative ones taken from /).
#[test]
fn control_socket_and_metrics_file() {
    let paths = |general: &str| {
        ok(&format!("[general]\n{general}\n{}", dhcp_only("")))
            .config
            .fixed
            .general
    };
    let p = paths("");
    assert_eq!(p.control_socket, Some(DEFAULT_CONTROL_SOCKET.into()));
    assert_eq!(p.metrics_file, None);
    let p = paths("control_socket =\nmetrics_file = /var/lib/node/nfdhcpd.prom");
    assert_eq!(p.control_socket, None);
    assert_eq!(p.metrics_file, Some("/var/lib/node/nfdhcpd.prom".into()));
    let p = paths("control_socket = /tmp/x.sock\nmetrics_file =");
    assert_eq!(p.control_socket, Some("/tmp/x.sock".into()));
    assert_eq!(p.metrics_file, None);
}
