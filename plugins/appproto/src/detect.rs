//! Telling the application protocol from a connection's first payload bytes.

/// Most bytes kept per direction: enough for a request's headers or a
/// ClientHello with large key shares.
pub const MAX_BYTES: usize = 16 * 1024;

const HTTP_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// What the bytes so far say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// The labels, `app` first.
    pub labels: Vec<(String, String)>,
    /// Nothing more is to be learnt from more bytes.
    pub complete: bool,
}

/// A protocol's reading of the bytes.
enum Reading {
    /// Not this protocol.
    No,
    /// Could be, once more bytes come.
    Maybe,
    /// This protocol, with its labels; `complete` when more bytes would add nothing.
    Yes(Vec<(String, String)>, bool),
}

/// Reads the first bytes of each direction (client to server, server to client).
pub fn analyze(c2s: &[u8], s2c: &[u8]) -> Analysis {
    let full = |b: &[u8]| b.len() >= MAX_BYTES;
    for reading in [ssh(c2s, s2c), http(c2s, s2c), tls(c2s)] {
        match reading {
            Reading::Yes(labels, complete) => {
                return Analysis {
                    labels,
                    complete: complete || (full(c2s) && full(s2c)),
                }
            }
            Reading::Maybe => {
                return Analysis {
                    labels: vec![label("app", "unknown")],
                    complete: full(c2s) && full(s2c),
                }
            }
            Reading::No => {}
        }
    }
    // Nothing matches: the client spoke first with something else, or the
    // server did without an SSH banner.
    let decided = !c2s.is_empty() || !s2c.is_empty();
    Analysis {
        labels: vec![label("app", "unknown")],
        complete: decided,
    }
}

fn label(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// True when `bytes` is a prefix of `pattern` or starts with it.
fn could_start(bytes: &[u8], pattern: &[u8]) -> bool {
    let n = bytes.len().min(pattern.len());
    bytes[..n] == pattern[..n]
}

/// The first line of `bytes` (without CR LF), when complete.
fn first_line(bytes: &[u8]) -> Option<&[u8]> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    let line = &bytes[..end];
    Some(line.strip_suffix(b"\r").unwrap_or(line))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// SSH: either side's identification string `SSH-2.0-...` (RFC 4253 4.2).
fn ssh(c2s: &[u8], s2c: &[u8]) -> Reading {
    let starts = |b: &[u8]| b.len() >= 4 && b.starts_with(b"SSH-");
    let partial = |b: &[u8]| !b.is_empty() && b.len() < 4 && could_start(b, b"SSH-");
    if !starts(c2s) && !starts(s2c) {
        return if partial(c2s) || partial(s2c) {
            Reading::Maybe
        } else {
            Reading::No
        };
    }
    let banner = |b: &[u8]| starts(b).then(|| first_line(b).map(text)).flatten();
    let (client, server) = (banner(c2s), banner(s2c));
    let mut labels = vec![label("app", "ssh")];
    if let Some(b) = server.as_ref().or(client.as_ref()) {
        labels.push(label("ssh.banner", b));
    }
    if let Some(b) = &client {
        labels.push(label("ssh.client_banner", b));
    }
    Reading::Yes(labels, client.is_some() && server.is_some())
}

/// HTTP/1: a request line `METHOD target HTTP/1.x` from the client, and its
/// Host header; or, with no request seen, a status line from the server.
fn http(c2s: &[u8], s2c: &[u8]) -> Reading {
    let method = HTTP_METHODS
        .iter()
        .find(|m| c2s.len() > m.len() && c2s.starts_with(m.as_bytes()) && c2s[m.len()] == b' ');
    let Some(method) = method else {
        let partial = !c2s.is_empty()
            && c2s.len() <= 8
            && HTTP_METHODS
                .iter()
                .any(|m| could_start(c2s, format!("{m} ").as_bytes()));
        if partial {
            return Reading::Maybe;
        }
        if c2s.is_empty() && s2c.starts_with(b"HTTP/1.") {
            return Reading::Yes(vec![label("app", "http")], false);
        }
        return Reading::No;
    };
    let mut labels = vec![label("app", "http"), label("http.method", method)];
    let head_end = c2s.windows(4).position(|w| w == b"\r\n\r\n");
    let head = &c2s[..head_end.unwrap_or(c2s.len())];
    let host = head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = line.split_at(colon);
        name.eq_ignore_ascii_case(b"host")
            .then(|| text(value[1..].trim_ascii()))
    });
    let complete = host.is_some() || head_end.is_some();
    if let Some(host) = host {
        labels.push(("http.host".to_string(), host));
    }
    Reading::Yes(labels, complete)
}

/// TLS: a handshake record holding a ClientHello, and its server_name.
fn tls(c2s: &[u8]) -> Reading {
    // Record: content type 22 (handshake), version 3.x, length.
    match c2s {
        [] => return Reading::No,
        [22] | [22, 3] => return Reading::Maybe,
        [22, 3, minor, ..] if *minor <= 4 => {}
        _ => return Reading::No,
    }
    let mut handshake = Vec::new();
    let mut rest = c2s;
    while let [22, 3, _, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let take = len.min(tail.len());
        handshake.extend_from_slice(&tail[..take]);
        rest = &tail[take..];
        if take < len {
            break;
        }
    }
    match handshake.first() {
        None => return Reading::Maybe,
        Some(1) => {}
        Some(_) => return Reading::Yes(vec![label("app", "tls")], true),
    }
    let need = match handshake.get(1..4) {
        Some(l) => 4 + (usize::from(l[0]) << 16 | usize::from(l[1]) << 8 | usize::from(l[2])),
        None => return Reading::Maybe,
    };
    let mut labels = vec![label("app", "tls")];
    if handshake.len() < need {
        let complete = c2s.len() >= MAX_BYTES;
        return Reading::Yes(labels, complete);
    }
    if let Some(sni) = client_hello_sni(&handshake[4..need]) {
        labels.push(("tls.sni".to_string(), sni));
    }
    Reading::Yes(labels, true)
}

/// A big-endian reader that never panics.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| usize::from(b[0]))
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
}

/// The host_name of the server_name extension (RFC 6066 3) of a ClientHello body.
fn client_hello_sni(body: &[u8]) -> Option<String> {
    let mut c = Cursor(body);
    c.take(2 + 32)?; // legacy_version, random
    let n = c.u8()?;
    c.take(n)?; // session id
    let n = c.u16()?;
    c.take(n)?; // cipher suites
    let n = c.u8()?;
    c.take(n)?; // compression methods
    let n = c.u16()?;
    let mut ext = Cursor(c.take(n)?);
    while !ext.0.is_empty() {
        let kind = ext.u16()?;
        let n = ext.u16()?;
        let data = ext.take(n)?;
        if kind != 0 {
            continue;
        }
        let mut list = Cursor(data);
        let n = list.u16()?;
        let mut names = Cursor(list.take(n)?);
        while !names.0.is_empty() {
            let name_type = names.u8()?;
            let n = names.u16()?;
            let name = names.take(n)?;
            if name_type == 0 {
                return Some(text(name));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(c2s: &[u8], s2c: &[u8]) -> Vec<(String, String)> {
        analyze(c2s, s2c).labels
    }

    fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| label(n, v)).collect()
    }

    #[test]
    fn http_request_with_host() {
        let req = b"GET /x HTTP/1.1\r\nUser-Agent: t\r\nhOsT:  example.test \r\n\r\n";
        let a = analyze(req, b"");
        assert!(a.complete);
        assert_eq!(
            a.labels,
            l(&[
                ("app", "http"),
                ("http.method", "GET"),
                ("http.host", "example.test")
            ])
        );
        // A request cut before its Host header waits for more.
        let a = analyze(b"POST / HTTP/1.1\r\nAccept: */*\r\n", b"");
        assert!(!a.complete);
        assert_eq!(a.labels, l(&[("app", "http"), ("http.method", "POST")]));
        // Too short to tell yet.
        assert!(!analyze(b"GE", b"").complete);
        assert_eq!(labels(b"", b"HTTP/1.1 200 OK\r\n"), l(&[("app", "http")]));
    }

    #[test]
    fn ssh_banners() {
        let a = analyze(b"SSH-2.0-client\r\n", b"SSH-2.0-server\r\n\0\0");
        assert!(a.complete);
        assert_eq!(
            a.labels,
            l(&[
                ("app", "ssh"),
                ("ssh.banner", "SSH-2.0-server"),
                ("ssh.client_banner", "SSH-2.0-client")
            ])
        );
        let a = analyze(b"", b"SSH-2.0-OpenSSH_9.2p1\n");
        assert!(!a.complete);
        assert_eq!(
            a.labels,
            l(&[("app", "ssh"), ("ssh.banner", "SSH-2.0-OpenSSH_9.2p1")])
        );
        assert!(!analyze(b"", b"SS").complete);
    }

    #[test]
    fn tls_client_hello() {
        // A minimal ClientHello with SNI "a.example".
        let name = b"a.example";
        let mut sni = vec![0, 0]; // extension type server_name
        let list_len = 3 + name.len();
        sni.extend(((list_len + 2) as u16).to_be_bytes());
        sni.extend((list_len as u16).to_be_bytes());
        sni.push(0);
        sni.extend((name.len() as u16).to_be_bytes());
        sni.extend(name);
        let mut body = vec![3, 3];
        body.extend([0; 32]);
        body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
        body.extend((sni.len() as u16).to_be_bytes());
        body.extend(&sni);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(&body);
        let mut rec = vec![22, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(&hs);
        let a = analyze(&rec, b"");
        assert!(a.complete);
        assert_eq!(a.labels, l(&[("app", "tls"), ("tls.sni", "a.example")]));
        // Cut in the middle: TLS, waiting for the rest.
        let a = analyze(&rec[..20], b"");
        assert!(!a.complete);
        assert_eq!(a.labels, l(&[("app", "tls")]));
    }

    #[test]
    fn anything_else_is_unknown() {
        let a = analyze(b"\x00\x01binary", b"");
        assert!(a.complete);
        assert_eq!(a.labels, l(&[("app", "unknown")]));
        let a = analyze(b"", b"");
        assert!(!a.complete);
        assert_eq!(a.labels, l(&[("app", "unknown")]));
    }
}
