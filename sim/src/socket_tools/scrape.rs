//! Reading a server's admin port from a test tool: one HTTP GET (or a POST
//! of an operator command), the samples of
//! the Prometheus text it returns, and quantiles of a histogram from its
//! cumulative buckets. Only what `loadtest` and the tests need; the server
//! writes the format with `prometheus-client`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The largest response read (the metrics of a server with a few hundred zones).
const MAX_RESPONSE: u64 = 8 << 20;

/// `GET path` on `addr`; the status code and the body.
pub fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<(u16, String)> {
    http_request(addr, "GET", path, "", timeout)
}

/// `POST path` on `addr` with `body` (text); the status code and the body.
pub fn http_post(
    addr: SocketAddr,
    path: &str,
    body: &str,
    timeout: Duration,
) -> io::Result<(u16, String)> {
    http_request(addr, "POST", path, body, timeout)
}

fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    timeout: Duration,
) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.take(MAX_RESPONSE).read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no end of headers"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no status code"))?;
    Ok((status, body.to_owned()))
}

/// One sample line: `name{labels} value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The samples of a Prometheus or OpenMetrics text page. Comments and lines
/// that do not parse are skipped.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, labels, rest) = match line.find('{') {
        Some(open) => {
            let close = line[open..].find('}')? + open;
            (
                &line[..open],
                parse_labels(&line[open + 1..close])?,
                &line[close + 1..],
            )
        }
        None => {
            let space = line.find(' ')?;
            (&line[..space], Vec::new(), &line[space..])
        }
    };
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// `k="v",k2="v2"`; values here never hold quotes or commas (the server's
/// labels are ids, map names and reason labels).
fn parse_labels(s: &str) -> Option<Vec<(String, String)>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let v = v.trim().strip_prefix('"')?.strip_suffix('"')?;
            Some((k.trim().to_owned(), v.to_owned()))
        })
        .collect()
}

/// The sum of every sample named `name` (all label sets).
pub fn total(samples: &[Sample], name: &str) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .map(|s| s.value)
        .sum()
}

/// A histogram's cumulative buckets (upper bound, count), summed over every
/// label set of `name` (e.g. all zones), sorted by bound.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buckets(pub Vec<(f64, f64)>);

impl Buckets {
    pub fn of(samples: &[Sample], name: &str) -> Self {
        let bucket = format!("{name}_bucket");
        let mut sums: Vec<(f64, f64)> = Vec::new();
        for s in samples.iter().filter(|s| s.name == bucket) {
            let Some(le) = s.label("le").and_then(|v| match v {
                "+Inf" => Some(f64::INFINITY),
                v => v.parse::<f64>().ok(),
            }) else {
                continue;
            };
            match sums.iter_mut().find(|(b, _)| *b == le) {
                Some((_, n)) => *n += s.value,
                None => sums.push((le, s.value)),
            }
        }
        sums.sort_by(|a, b| a.0.total_cmp(&b.0));
        Buckets(sums)
    }

    pub fn count(&self) -> f64 {
        self.0.last().map_or(0.0, |&(_, n)| n)
    }

    /// What was observed after `earlier` (a scrape of the same histogram).
    pub fn since(&self, earlier: &Buckets) -> Buckets {
        Buckets(
            self.0
                .iter()
                .map(|&(le, n)| {
                    let before = earlier
                        .0
                        .iter()
                        .find(|(b, _)| *b == le)
                        .map_or(0.0, |&(_, m)| m);
                    (le, (n - before).max(0.0))
                })
                .collect(),
        )
    }

    /// The `q` quantile (0..=1), interpolated linearly inside its bucket as
    /// Prometheus's `histogram_quantile` does. `None` without observations; a
    /// quantile in the `+Inf` bucket is the highest finite bound.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let count = self.count();
        if count <= 0.0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * count;
        let mut lower = (0.0, 0.0);
        for &(le, n) in &self.0 {
            if n >= rank {
                if le.is_infinite() {
                    return Some(lower.0);
                }
                let in_bucket = n - lower.1;
                let frac = if in_bucket > 0.0 {
                    (rank - lower.1) / in_bucket
                } else {
                    1.0
                };
                return Some(lower.0 + (le - lower.0) * frac);
            }
            lower = (le, n);
        }
        Some(lower.0)
    }

    /// The upper bound of the bucket holding the `q` quantile: a value the
    /// quantile is certainly not above.
    pub fn quantile_bound(&self, q: f64) -> Option<f64> {
        let count = self.count();
        if count <= 0.0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * count;
        self.0.iter().find(|&&(_, n)| n >= rank).map(|&(le, _)| le)
    }
}

/// The resident memory of a process now and at its peak, in bytes, from
/// `/proc/<pid>/status` (Linux).
pub fn resident_memory(pid: u32) -> io::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(now), Some(peak)) => Ok((now, peak)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no VmRSS/VmHWM in /proc status",
        )),
    }
}

/// CPU time a process has used (user + system), in seconds, from
/// `/proc/<pid>/stat` (Linux; the kernel's clock tick is 100 Hz there).
pub fn cpu_seconds(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_seconds(&stat)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc stat"))
}

fn parse_cpu_seconds(stat: &str) -> Option<f64> {
    // The command name is in parentheses and may hold spaces: count fields
    // after the last ')'. utime and stime are fields 14 and 15 of the line.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// The machine's 1-minute load average (Linux), to say how shared it was.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "\
# HELP mmo_ticks World ticks run.
# TYPE mmo_ticks counter
mmo_ticks_total 120
mmo_sessions{state=\"in_world\"} 7
mmo_sessions{state=\"awaiting_hello\"} 1
mmo_tick_duration_seconds_sum{zone=\"1\",map=\"arena\",channel=\"0\"} 0.5
mmo_tick_duration_seconds_count{zone=\"1\",map=\"arena\",channel=\"0\"} 100
mmo_tick_duration_seconds_bucket{le=\"0.001\",zone=\"1\",map=\"arena\",channel=\"0\"} 50
mmo_tick_duration_seconds_bucket{le=\"0.01\",zone=\"1\",map=\"arena\",channel=\"0\"} 90
mmo_tick_duration_seconds_bucket{le=\"0.1\",zone=\"1\",map=\"arena\",channel=\"0\"} 100
mmo_tick_duration_seconds_bucket{le=\"+Inf\",zone=\"1\",map=\"arena\",channel=\"0\"} 100
mmo_tick_duration_seconds_bucket{le=\"0.001\",zone=\"2\",map=\"forest\",channel=\"0\"} 0
mmo_tick_duration_seconds_bucket{le=\"0.01\",zone=\"2\",map=\"forest\",channel=\"0\"} 0
mmo_tick_duration_seconds_bucket{le=\"0.1\",zone=\"2\",map=\"forest\",channel=\"0\"} 0
mmo_tick_duration_seconds_bucket{le=\"+Inf\",zone=\"2\",map=\"forest\",channel=\"0\"} 100
# EOF
";

    #[test]
    fn samples_parse_with_and_without_labels() {
        let s = parse(PAGE);
        assert_eq!(total(&s, "mmo_ticks_total"), 120.0);
        assert_eq!(total(&s, "mmo_sessions"), 8.0);
        let in_world = s
            .iter()
            .find(|x| x.name == "mmo_sessions" && x.label("state") == Some("in_world"))
            .unwrap();
        assert_eq!(in_world.value, 7.0);
        assert!(parse("garbage{ 1\n{}\nname\n").is_empty());
    }

    #[test]
    fn buckets_sum_over_zones_and_quantiles_interpolate() {
        let b = Buckets::of(&parse(PAGE), "mmo_tick_duration_seconds");
        assert_eq!(
            b.0,
            vec![
                (0.001, 50.0),
                (0.01, 90.0),
                (0.1, 100.0),
                (f64::INFINITY, 200.0)
            ]
        );
        assert_eq!(b.count(), 200.0);
        // Rank 100 of 200 lies in (0.01, 0.1], 10 of its 10: the top.
        assert!((b.quantile(0.5).unwrap() - 0.1).abs() < 1e-12);
        // Rank 45 lies in the first bucket, 45 of 50 into it.
        assert!((b.quantile(0.225).unwrap() - 0.0009).abs() < 1e-12);
        // Beyond the last finite bound: that bound.
        assert_eq!(b.quantile(0.99), Some(0.1));
        assert_eq!(b.quantile_bound(0.3), Some(0.01));
        assert_eq!(Buckets::default().quantile(0.99), None);
    }

    #[test]
    fn a_window_is_the_difference_of_two_scrapes() {
        let before = Buckets(vec![(0.01, 10.0), (0.1, 10.0), (f64::INFINITY, 10.0)]);
        let after = Buckets(vec![(0.01, 10.0), (0.1, 110.0), (f64::INFINITY, 110.0)]);
        let window = after.since(&before);
        assert_eq!(window.count(), 100.0);
        assert_eq!(window.quantile_bound(0.01), Some(0.1));
    }

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let line = "42 (mmo server) S 1 42 42 0 -1 4194304 100 0 0 0 250 150 0 0 20 0 9 0";
        assert_eq!(parse_cpu_seconds(line), Some(4.0));
        assert_eq!(parse_cpu_seconds("42 (x) S 1"), None);
        assert!(cpu_seconds(std::process::id()).is_ok());
    }

    #[test]
    fn this_process_has_resident_memory() {
        let (now, peak) = resident_memory(std::process::id()).unwrap();
        assert!(now > 0 && peak >= now);
    }
}
