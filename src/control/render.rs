//! The answers of the control socket, human-readable or JSON (`--json`, one object per
//! answer; `trace --json`: one object per line). Values that come from files or packets are
//! escaped in both forms.

use super::describe;
use super::{Control, ReloadReport};
use crate::binding::file::Binding;
use crate::binding::snapshot::Slot;
use crate::binding::table::{BindingInfo, State};
use crate::events::{Event, Traced};
use crate::stats::Stats;
use std::fmt::Write as _;
use std::time::SystemTime;

/// A JSON string literal.
fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array of strings.
fn js_list<I: IntoIterator<Item = String>>(items: I) -> String {
    let v: Vec<String> = items.into_iter().map(|s| js(&s)).collect();
    format!("[{}]", v.join(","))
}

/// Text from a file, safe for a terminal: control characters escaped.
fn safe(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

pub fn status(c: &Control, json: bool) -> String {
    let config = c.config.load();
    let uptime = SystemTime::now()
        .duration_since(c.started)
        .map_or(0, |d| d.as_secs());
    let mut queues: Vec<(u16, &str)> = Vec::new();
    if let Some(d) = &config.fixed.dhcp {
        queues.push((d.dhcp_queue, "dhcp4"));
    }
    let mode = config.fixed.ipv6.as_ref().map(|v6| {
        queues.push((v6.rs_queue, "rs"));
        queues.push((v6.ns_queue, "ns"));
        if let Some(q) = v6.dhcpv6_queue {
            queues.push((q, "dhcp6"));
        }
        v6.mode.as_str()
    });
    let g = c.gauges();
    let reload = c.last_reload.lock().clone();
    let tracing = c.trace.on();
    if json {
        let q: Vec<String> = queues
            .iter()
            .map(|(n, k)| format!("{{\"queue\":{n},\"kind\":{}}}", js(k)))
            .collect();
        let reload = reload.map_or("null".into(), |r| {
            format!(
                "{{\"at\":{},\"ok\":{},\"lines\":{}}}",
                js(&describe::timestamp(r.at_ms)),
                r.ok,
                js_list(r.lines)
            )
        });
        return format!(
            "{{\"version\":{},\"pid\":{},\"uptime_seconds\":{uptime},\"config\":{},\"last_reload\":{reload},\
             \"queues\":[{}],\"ipv6_mode\":{},\"bindings\":{{\"active\":{},\"inactive\":{},\"refused\":{}}},\
             \"tracing\":{tracing}}}\n",
            js(env!("CARGO_PKG_VERSION")),
            std::process::id(),
            js(&c.config_path.display().to_string()),
            q.join(","),
            mode.map_or("null".into(), js),
            g.active,
            g.inactive,
            g.refused,
        );
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "nfdhcpd {} pid {} up {} (since {})",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        duration(uptime),
        describe::timestamp(g.start_time * 1000)
    );
    let _ = writeln!(s, "config: {}", c.config_path.display());
    match reload {
        None => {
            let _ = writeln!(s, "last reload: none since start");
        }
        Some(r) => {
            let result = if r.ok {
                "applied"
            } else {
                "failed, running config kept"
            };
            let _ = writeln!(s, "last reload: {} {result}", describe::timestamp(r.at_ms));
            for l in &r.lines {
                let _ = writeln!(s, "  {l}");
            }
        }
    }
    let q: Vec<String> = queues.iter().map(|(n, k)| format!("{n} ({k})")).collect();
    let _ = writeln!(s, "queues: {}", q.join(", "));
    let _ = writeln!(s, "ipv6 mode: {}", mode.unwrap_or("off"));
    let _ = writeln!(
        s,
        "bindings: {} active, {} inactive, {} refused",
        g.active, g.inactive, g.refused
    );
    let _ = writeln!(s, "tracing: {}", if tracing { "on" } else { "off" });
    s
}

fn duration(secs: u64) -> String {
    format!(
        "{}d{:02}h{:02}m{:02}s",
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn state_text(state: &State) -> String {
    match state {
        State::Active => "active".into(),
        State::Inactive(why) => format!("inactive ({why})"),
        State::Refused(why) => format!("refused: {}", safe(why)),
    }
}

fn state_json(state: &State) -> String {
    match state {
        State::Active => "\"state\":\"active\"".into(),
        State::Inactive(why) => format!("\"state\":\"inactive\",\"reason\":{}", js(why)),
        State::Refused(why) => format!("\"state\":\"refused\",\"reason\":{}", js(why)),
    }
}

/// The binding's keys as `(KEY, value)`, set ones only.
fn keys(b: &Binding) -> Vec<(&'static str, String)> {
    let list = |v: Vec<String>| (!v.is_empty()).then(|| v.join(","));
    let mut out = vec![("MAC", Some(b.mac.to_string()))];
    out.push(("INDEV", Some(b.indev.clone())));
    out.push(("IP", b.ip.map(|x| x.to_string())));
    out.push(("SUBNET", b.subnet.map(|x| x.to_string())));
    out.push(("GATEWAY", b.gateway.map(|x| x.to_string())));
    out.push(("HOSTNAME", b.hostname.as_deref().map(safe)));
    out.push(("SUBNET6", b.subnet6.map(|x| x.to_string())));
    out.push(("GATEWAY6", b.gateway6.map(|x| x.to_string())));
    out.push(("EUI64", b.eui64.map(|x| x.to_string())));
    out.push(("IP6", list(b.ip6.iter().map(ToString::to_string).collect())));
    out.push((
        "DELEGATED6",
        list(b.delegated6.iter().map(ToString::to_string).collect()),
    ));
    out.push(("MTU", b.mtu.map(|x| x.to_string())));
    out.push(("PRIVATE", b.private.then(|| "yes".into())));
    out.push(("MACSPOOF", b.macspoof.then(|| "yes".into())));
    out.push(("IPV6ONLY", b.ipv6only.then(|| "yes".into())));
    out.push((
        "NAMESERVERS",
        list(b.nameservers.iter().map(ToString::to_string).collect()),
    ));
    out.push((
        "NAMESERVERS6",
        list(b.nameservers6.iter().map(ToString::to_string).collect()),
    ));
    out.push(("DOMAIN", b.domain.clone()));
    out.push(("DOMAIN_SEARCH", list(b.domain_search.clone())));
    out.push((
        "ROUTES",
        list(
            b.routes
                .iter()
                .map(|(n, via)| format!("{n} via {via}"))
                .collect(),
        ),
    ));
    out.push((
        "ROUTES6",
        list(b.routes6.iter().map(ToString::to_string).collect()),
    ));
    out.push(("INSTANCE", b.instance.as_deref().map(safe)));
    out.push(("TAGS", b.tags.as_deref().map(safe)));
    out.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

fn slot_facts(slot: Option<&Slot>) -> Vec<(&'static str, String)> {
    match slot {
        Some(Slot::Active(e)) => vec![
            ("ifindex", e.ifindex.to_string()),
            ("host_mac", e.host_mac.to_string()),
            ("running", e.running.to_string()),
        ],
        Some(Slot::Inactive { ifindex, .. }) => vec![("ifindex", ifindex.to_string())],
        None => vec![],
    }
}

fn binding_json(info: &BindingInfo) -> String {
    let mut fields = vec![
        format!("\"tap\":{}", js(&info.tap)),
        state_json(&info.state),
    ];
    for (k, v) in slot_facts(info.slot.as_deref()) {
        fields.push(format!("{}:{}", js(k), js(&v)));
    }
    if let Some(b) = &info.binding {
        let kv: Vec<String> = keys(b)
            .iter()
            .map(|(k, v)| format!("{}:{}", js(k), js(v)))
            .collect();
        fields.push(format!("\"keys\":{{{}}}", kv.join(",")));
        fields.push(format!(
            "\"warnings\":{}",
            js_list(b.warnings.iter().map(ToString::to_string))
        ));
    }
    format!("{{{}}}", fields.join(","))
}

pub fn bindings(infos: &[BindingInfo], json: bool) -> String {
    if json {
        let v: Vec<String> = infos.iter().map(binding_json).collect();
        return format!("{{\"bindings\":[{}]}}\n", v.join(","));
    }
    let mut s = String::new();
    for info in infos {
        let _ = write!(s, "{} {}", info.tap, state_text(&info.state));
        if let Some(b) = &info.binding {
            for (k, v) in keys(b)
                .iter()
                .filter(|(k, _)| ["MAC", "IP", "IP6", "SUBNET6", "INDEV"].contains(k))
            {
                let _ = write!(s, " {}={v}", k.to_lowercase());
            }
        }
        s.push('\n');
    }
    if infos.is_empty() {
        s.push_str("no bindings\n");
    }
    s
}

fn event_text(e: &Event, b: Option<&Binding>) -> String {
    let mac = b.map(|b| b.mac).unwrap_or_default();
    let from = e.frame_src.map_or("-".into(), |m| m.to_string());
    format!(
        "{} {} {} from {from} -> {}",
        describe::timestamp(e.at_ms),
        e.queue.as_str(),
        describe::request_kind(e.request),
        describe::decision(e, mac)
    )
}

fn event_json(e: &Event, b: Option<&Binding>) -> String {
    let mac = b.map(|b| b.mac).unwrap_or_default();
    format!(
        "{{\"at\":{},\"queue\":{},\"request\":{},\"from\":{},\"decision\":{}}}",
        js(&describe::timestamp(e.at_ms)),
        js(e.queue.as_str()),
        js(&describe::request_kind(e.request)),
        e.frame_src.map_or("null".into(), |m| js(&m.to_string())),
        js(&describe::decision(e, mac))
    )
}

pub fn show(infos: &[BindingInfo], tap: &str, json: bool) -> String {
    let Some(info) = infos.first() else {
        return if json {
            format!("{{\"tap\":{},\"state\":\"unbound\"}}\n", js(tap))
        } else {
            format!("{tap}: no binding file: its packets are passed on untouched (unbound)\n")
        };
    };
    let (events, total) = info
        .slot
        .as_ref()
        .map_or((Vec::new(), 0), |s| s.events().recent());
    let b = info.binding.as_deref();
    if json {
        let ev: Vec<String> = events.iter().map(|e| event_json(e, b)).collect();
        let head = binding_json(info);
        let head = head.strip_suffix('}').unwrap_or(&head);
        return format!(
            "{head},\"packets\":{total},\"events\":[{}]}}\n",
            ev.join(",")
        );
    }
    let mut s = format!("{}: {}\n", info.tap, state_text(&info.state));
    for (k, v) in slot_facts(info.slot.as_deref()) {
        let _ = writeln!(s, "  {k}: {v}");
    }
    if let Some(b) = b {
        for (k, v) in keys(b) {
            let _ = writeln!(s, "  {k}={v}");
        }
        for w in &b.warnings {
            let _ = writeln!(s, "  warning: {}", safe(&w.to_string()));
        }
    }
    let _ = writeln!(s, "last {} of {total} packets:", events.len());
    for e in &events {
        let _ = writeln!(s, "  {}", event_text(e, b));
    }
    s
}

pub fn counters(stats: &Stats, json: bool) -> String {
    let snap = stats.snapshot();
    if json {
        let v: Vec<String> = snap.iter().map(|(k, v)| format!("{}:{v}", js(k))).collect();
        return format!("{{\"counters\":{{{}}}}}\n", v.join(","));
    }
    snap.iter().map(|(k, v)| format!("{k} {v}\n")).collect()
}

pub fn reload(r: &ReloadReport, json: bool) -> String {
    if json {
        return format!(
            "{{\"ok\":{},\"lines\":{}}}\n",
            r.ok,
            js_list(r.lines.clone())
        );
    }
    let mut s = String::new();
    for l in &r.lines {
        let _ = writeln!(s, "{l}");
    }
    s.push_str(if r.ok {
        "reload done\n"
    } else {
        "reload failed: the running configuration is kept\n"
    });
    s
}

/// One traced packet, decoded: `TIME TAP QUEUE KIND details from MAC -> decision details`.
pub fn traced(t: &Traced, json: bool) -> String {
    let e = &t.event;
    let request = describe::request(e.queue, &t.request);
    let reply = if t.reply.is_empty() {
        String::new()
    } else {
        describe::reply(e.queue, &t.reply)
    };
    let decision = describe::decision(e, Default::default());
    let from = e.frame_src.map_or("-".into(), |m| m.to_string());
    if json {
        return format!(
            "{{\"at\":{},\"tap\":{},\"queue\":{},\"request\":{},\"details\":{},\"from\":{},\"decision\":{},\"reply\":{}}}\n",
            js(&describe::timestamp(e.at_ms)),
            js(&t.tap),
            js(e.queue.as_str()),
            js(&describe::request_kind(e.request)),
            js(&request),
            js(&from),
            js(&decision),
            js(&reply)
        );
    }
    format!(
        "{} {} {} {} {request} frame-from {from} -> {decision} {reply}\n",
        describe::timestamp(e.at_ms),
        t.tap,
        e.queue.as_str(),
        describe::request_kind(e.request),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(js("a\"b\\c\nd\u{1b}"), "\"a\\\"b\\\\c\\nd\\u001b\"");
        assert_eq!(js_list(["x".to_string(), "y".into()]), "[\"x\",\"y\"]");
        assert_eq!(safe("vm\u{1b}[2J"), "vm\\u{1b}[2J");
    }
}
