//! What tcpdump prints after a TCP segment's `length N` for the two
//! application protocols this format follows: HTTP (print-http.c's
//! `http_print`, util-print.c's `txtproto_print`) and SSH (print-ssh.c's
//! `ssh_print`). Segments tcpdump hands to any other printer get nothing
//! after `length N`.

use super::{Get, Line, Step};

/// The application printers this format follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum App {
    /// print-http.c's `http_print`.
    Http,
    /// print-ssh.c's `ssh_print`.
    Ssh,
}

/// Ports print-tcp.c's `tcp_print` checks before SSH_PORT, each leading to
/// another printer: TELNET, SMTP, WHOIS, BGP, PPTP, REDIS.
const BEFORE_SSH: [u16; 6] = [23, 25, 43, 179, 1723, 6379];

/// SSH_PORT.
const SSH_PORT: u16 = 22;

/// Ports checked between SSH_PORT and the HTTP ports, each leading to
/// another printer: BEEP, OPENFLOW_PORT_OLD, OPENFLOW_PORT_IANA, FTP (the
/// NetBIOS and SMB ports are not checked: Debian builds without SMB).
const BEFORE_HTTP: [u16; 4] = [10288, 6633, 6653, 21];

/// HTTP_PORT and HTTP_PORT_ALT.
const HTTP_PORTS: [u16; 2] = [80, 8080];

/// print-http.c's `httpcmds`: the request methods (WebDAV's included).
const HTTP_COMMANDS: [&str; 38] = [
    "GET",
    "PUT",
    "COPY",
    "HEAD",
    "LOCK",
    "MOVE",
    "POLL",
    "POST",
    "BCOPY",
    "BMOVE",
    "MKCOL",
    "TRACE",
    "LABEL",
    "MERGE",
    "DELETE",
    "SEARCH",
    "UNLOCK",
    "REPORT",
    "UPDATE",
    "NOTIFY",
    "BDELETE",
    "CONNECT",
    "OPTIONS",
    "CHECKIN",
    "PROPFIND",
    "CHECKOUT",
    "CCM_POST",
    "SUBSCRIBE",
    "PROPPATCH",
    "BPROPFIND",
    "BPROPPATCH",
    "UNCHECKOUT",
    "MKACTIVITY",
    "MKWORKSPACE",
    "UNSUBSCRIBE",
    "RPC_CONNECT",
    "VERSION-CONTROL",
    "BASELINE-CONTROL",
];

/// util-print.c's MAX_TOKEN: `fetch_token` gives up on longer tokens.
const MAX_TOKEN: usize = 128;

/// The printer `tcp_print`'s port dispatch picks for a segment with data
/// between `sport` and `dport`, when it is one of the two followed here:
/// the first port in the dispatch's order that either side uses decides.
pub(super) fn dispatch(sport: u16, dport: u16) -> Option<App> {
    let either = |port: &u16| sport == *port || dport == *port;
    if BEFORE_SSH.iter().any(either) {
        None
    } else if either(&SSH_PORT) {
        Some(App::Ssh)
    } else if BEFORE_HTTP.iter().any(either) {
        None
    } else if HTTP_PORTS.iter().any(either) {
        Some(App::Http)
    } else {
        None
    }
}

/// Writes what `app`'s printer prints for `payload` (the data bytes tcpdump
/// may read: captured, within the IP length), of which the IP layer gives
/// `len` bytes.
pub(super) fn write(line: &mut Line<'_>, app: App, payload: &[u8], len: u32) -> Step {
    let len = len as usize;
    match app {
        App::Http => {
            line.proto = "http";
            line.text(": ");
            write_http(line, payload, len)
        }
        App::Ssh => {
            line.proto = "ssh";
            write_ssh(line, payload, len)
        }
    }
}

/// ND_ASCII_ISPRINT: a printable ASCII character, space included.
fn is_print(c: u8) -> bool {
    (0x20..0x7F).contains(&c)
}

/// print-ssh.c's `ssh_print_version`: when the data starts with `SSH-` and
/// the line ends (LF or CR LF) within `len` bytes with only printable
/// characters before, `: SSH: ` and the line. Reading past the captured
/// bytes is tcpdump's truncation (` [|ssh]`).
fn write_ssh(line: &mut Line<'_>, payload: &[u8], len: usize) -> Step {
    for (idx, &expected) in b"SSH-".iter().enumerate() {
        if payload.u8_at(idx)? != expected {
            return Ok(());
        }
    }
    for idx in 4..len {
        let c = payload.u8_at(idx)?;
        let ends = match c {
            b'\n' => true,
            b'\r' => idx + 1 < len && payload.u8_at(idx + 1)? == b'\n',
            _ => false,
        };
        if ends {
            line.text(": SSH: ");
            line.bytes(&payload[..idx]);
            return Ok(());
        }
        if !is_print(c) {
            return Ok(());
        }
    }
    Ok(())
}

/// `txtproto_print(..., "http", httpcmds, RESP_CODE_SECOND_TOKEN)`: `HTTP`,
/// then, when the first token is a request method (in any case) or the
/// second one a three-digit response code, the first text line (`: ` and
/// the line) or, with `-v`, `, length: N` and every text line, each after a
/// newline and a tab.
fn write_http(line: &mut Line<'_>, payload: &[u8], len: usize) -> Step {
    let mut print_this = false;
    if let Some((idx, first)) = fetch_token(payload, 0, len) {
        print_this = HTTP_COMMANDS
            .iter()
            .any(|cmd| cmd.as_bytes().eq_ignore_ascii_case(first));
        if let Some((_, second)) = fetch_token(payload, idx, len) {
            print_this |= second.len() == 3 && second.iter().all(u8::is_ascii_digit);
        }
    }
    line.text("HTTP");
    if !print_this {
        return Ok(());
    }
    if line.verbose == 0 {
        return write_txt_line(line, ": ", payload, 0, len).map(drop);
    }
    line.print(format_args!(", length: {len}"));
    let mut idx = 0;
    while idx < len {
        match write_txt_line(line, "\n\t", payload, idx, len)? {
            Some(eol) => idx = eol,
            None => break,
        }
    }
    Ok(())
}

/// util-print.c's `fetch_token`: the token (printable ASCII up to a space,
/// tab, CR or LF, at most MAX_TOKEN bytes) at `idx`, and the index past it
/// and the spaces that follow; `None` for no token, a byte that is not
/// printable ASCII in it, a token too long, or one running past the
/// captured bytes.
fn fetch_token(payload: &[u8], mut idx: usize, len: usize) -> Option<(usize, &[u8])> {
    let start = idx;
    while idx < len {
        let c = *payload.get(idx)?;
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            break;
        }
        if !is_print(c) || idx - start >= MAX_TOKEN {
            return None;
        }
        idx += 1;
    }
    if idx == start {
        return None;
    }
    let token = &payload[start..idx];
    while idx < len && payload.get(idx) == Some(&b' ') {
        idx += 1;
    }
    Some((idx, token))
}

/// util-print.c's `print_txt_line`: the text line at `idx` after `prefix`,
/// returning the index past its LF or CR LF. Nothing is printed, and `None`
/// returned, for a line with a byte that is neither printable ASCII nor a
/// tab, or a CR not followed by LF; a line that runs to `len` without an
/// end is printed with ` [|http]`; reading past the captured bytes is
/// tcpdump's truncation.
fn write_txt_line(
    line: &mut Line<'_>,
    prefix: &str,
    payload: &[u8],
    start: usize,
    len: usize,
) -> Step<Option<usize>> {
    for idx in start..len {
        let c = payload.u8_at(idx)?;
        let eol = match c {
            b'\n' => idx + 1,
            b'\r' if idx + 1 < len && payload.u8_at(idx + 1)? == b'\n' => idx + 2,
            b'\r' => return Ok(None),
            c if !is_print(c) && c != b'\t' => return Ok(None),
            _ => continue,
        };
        line.text(prefix);
        line.bytes(&payload[start..idx]);
        return Ok(Some(eol));
    }
    line.text(prefix);
    line.bytes(&payload[start..len]);
    line.trunc_mark();
    Ok(None)
}
