//! Reaching an endpoint: the name lookup bounded by the connect timeout, the per-host rate
//! limit every connection waits for (handshake and raw probes alike), the TCP connect, and
//! the STARTTLS preamble ([`super::starttls`]) when the target has one.

use super::target::Starttls;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Addresses of one name tried in turn (each within the connect timeout).
pub const MAX_ADDRESSES: usize = 4;
/// Name lookups still running after their caller gave up on them (a resolver that never
/// answers): past this many, a lookup is refused rather than another thread left waiting.
pub const MAX_PENDING_LOOKUPS: usize = 64;

static PENDING_LOOKUPS: AtomicUsize = AtomicUsize::new(0);

/// `host:port`'s addresses (at most [`MAX_ADDRESSES`]), within `timeout`. An IP address is
/// parsed, not looked up. A name is looked up by the system resolver (getaddrinfo) on a
/// thread of its own, so a resolver that never answers costs `timeout`, not the resolver's
/// own retries; that thread ends when getaddrinfo returns, and at most
/// [`MAX_PENDING_LOOKUPS`] are ever left running.
pub fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if PENDING_LOOKUPS.fetch_add(1, Ordering::SeqCst) >= MAX_PENDING_LOOKUPS {
        PENDING_LOOKUPS.fetch_sub(1, Ordering::SeqCst);
        return Err(format!(
            "cannot resolve {host}: {MAX_PENDING_LOOKUPS} name lookups are already pending (the resolver does not answer)"
        ));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_string();
    let spawned = std::thread::Builder::new()
        .name("tls-resolve".into())
        .stack_size(256 << 10)
        .spawn(move || {
            let r = (name.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.take(MAX_ADDRESSES).collect::<Vec<_>>());
            PENDING_LOOKUPS.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(r);
        });
    if let Err(e) = spawned {
        PENDING_LOOKUPS.fetch_sub(1, Ordering::SeqCst);
        return Err(format!("cannot resolve {host}: {e}"));
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(a)) if a.is_empty() => Err(format!("cannot resolve {host}: no addresses")),
        Ok(Ok(a)) => Ok(a),
        Ok(Err(e)) => Err(format!("cannot resolve {host}: {e}")),
        Err(_) => Err(format!(
            "cannot resolve {host}: the name lookup timed out after {}",
            secs(timeout)
        )),
    }
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// At most N new connections a second to one IP address, over the whole scan. Each
/// connection takes the next free slot of its address (slots are `1/N` s apart) and waits
/// for it before connecting, so the timeouts count from the connect, not from the wait.
#[derive(Debug, Default)]
pub struct RateLimit {
    interval: Option<Duration>,
    next: Mutex<HashMap<IpAddr, Instant>>,
}

impl RateLimit {
    /// `per_second` connections a second to each address; 0 (or less): no limit.
    pub fn new(per_second: f64) -> RateLimit {
        RateLimit {
            interval: (per_second > 0.0).then(|| Duration::from_secs_f64(1.0 / per_second)),
            next: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for `ip`'s next slot.
    pub fn wait(&self, ip: IpAddr) {
        let Some(interval) = self.interval else {
            return;
        };
        let now = Instant::now();
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let e = next.entry(ip).or_insert(now);
            let slot = (*e).max(now);
            *e = slot + interval;
            slot
        };
        std::thread::sleep(slot.saturating_duration_since(now));
    }
}

/// How one endpoint's connections are made: for its raw probes after the handshake.
#[derive(Debug, Clone, Copy)]
pub struct Dial<'a> {
    pub rate: &'a RateLimit,
    pub starttls: Option<Starttls>,
    /// For the connect, and again for the rest (preamble, hello, answer).
    pub timeout: Duration,
}

impl Dial<'_> {
    /// Waits for the rate limit, connects to `addr` and speaks the preamble: the stream and
    /// the deadline for the rest of the exchange.
    pub fn open(&self, addr: SocketAddr) -> Result<(TcpStream, Instant), String> {
        self.rate.wait(addr.ip());
        let s = TcpStream::connect_timeout(&addr, self.timeout).map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                format!("connect to {addr} timed out after {}", secs(self.timeout))
            } else {
                format!("connect to {addr}: {e}")
            }
        })?;
        let _ = s.set_nodelay(true);
        let deadline = Instant::now() + self.timeout;
        if let Some(p) = self.starttls {
            super::starttls::negotiate(&s, p, deadline)?;
        }
        Ok((s, deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_to_one_address_are_spaced_by_the_rate() {
        let r = RateLimit::new(20.0);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let start = Instant::now();
        for _ in 0..5 {
            r.wait(a);
        }
        // Slots at 0, 50, 100, 150, 200 ms.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(195) && took < Duration::from_millis(600),
            "{took:?}"
        );
        // Another address has slots of its own.
        let start = Instant::now();
        r.wait(b);
        assert!(start.elapsed() < Duration::from_millis(30));
        // No limit: no wait.
        let r = RateLimit::new(0.0);
        let start = Instant::now();
        for _ in 0..100 {
            r.wait(a);
        }
        assert!(start.elapsed() < Duration::from_millis(30));
    }

    #[test]
    fn an_ip_address_is_not_looked_up() {
        assert_eq!(
            resolve("::1", 443, Duration::from_millis(1)).unwrap(),
            vec!["[::1]:443".parse().unwrap()]
        );
    }
}
