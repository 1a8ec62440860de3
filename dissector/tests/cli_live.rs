//! Live capture (`synack -i`) in a network namespace of its own: real TCP
//! connections on its loopback interface, stopped by `-c` or by SIGINT.
//!
//! Needs root (to create the namespace and capture), as CI has.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Connects to a server in the same process `n` times; the server answers
/// and closes first, so each connection has a full handshake and teardown.
const CONNECTIONS: &str = r#"
import socket, sys, threading
n = int(sys.argv[1])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5555))
srv.listen(8)
def serve():
    for _ in range(n):
        c, _ = srv.accept()
        c.recv(100)
        c.sendall(b"pong")
        c.close()
t = threading.Thread(target=serve)
t.start()
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", 5555))
    c.sendall(b"ping")
    while c.recv(100):
        pass
    c.close()
t.join()
"#;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A network namespace with its loopback up, deleted when dropped.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("synack-live-{}-{tag}", std::process::id());
        let ok = |c: &mut Command| c.status().is_ok_and(|s| s.success());
        assert!(
            ok(Command::new("ip").args(["netns", "add", &name])),
            "ip netns add"
        );
        let ns = Netns(name);
        assert!(ok(Command::new("ip").args([
            "netns", "exec", &ns.0, "ip", "link", "set", "lo", "up"
        ])));
        ns
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, program]);
        c
    }

    fn connect(&self, n: usize) {
        let status = self
            .command("python3")
            .args(["-c", CONNECTIONS, &n.to_string()])
            .status()
            .expect("python3 runs");
        assert!(status.success());
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A running synack whose standard error is read line by line.
struct Live {
    child: Child,
    err_lines: mpsc::Receiver<String>,
    err_seen: Vec<String>,
}

impl Live {
    fn start(ns: &Netns, args: &[&str]) -> Live {
        let mut child = ns
            .command(env!("CARGO_BIN_EXE_synack"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("synack starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut live = Live {
            child,
            err_lines: rx,
            err_seen: Vec::new(),
        };
        // Wait until the capture is open.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !live.err_seen.iter().any(|l| l.contains("listening on lo")) {
            let left = deadline.saturating_duration_since(Instant::now());
            match live.err_lines.recv_timeout(left) {
                Ok(line) => live.err_seen.push(line),
                Err(_) => {
                    let _ = live.child.kill();
                    panic!("synack did not start listening: {:?}", live.err_seen);
                }
            }
        }
        live
    }

    /// Waits up to `secs` for the exit, then sends SIGINT (as Ctrl-C), and
    /// returns (exit code, stdout, stderr lines).
    fn finish(mut self, secs: u64, interrupt: bool) -> (Option<i32>, String, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut interrupted = false;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if interrupt || Instant::now() > deadline {
                if !interrupted {
                    let pid = self.child.id().to_string();
                    let _ = Command::new("kill").args(["-INT", &pid]).status();
                    interrupted = true;
                } else if Instant::now() > deadline + Duration::from_secs(10) {
                    let _ = self.child.kill();
                    panic!("synack did not stop on SIGINT");
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        while let Ok(line) = self.err_lines.recv_timeout(Duration::from_secs(2)) {
            self.err_seen.push(line);
        }
        (status.code(), out, self.err_seen)
    }
}

fn roles_of(packets: &[Value], conn: u64) -> Vec<String> {
    let mut roles = Vec::new();
    for p in packets.iter().filter(|p| p["conn"] == conn) {
        if let Some(r) = p["role"].as_str() {
            roles.push(r.to_string());
        }
        for r in p["combines"].as_array().into_iter().flatten() {
            roles.push(r.as_str().unwrap().to_string());
        }
    }
    roles.sort();
    roles
}

#[test]
fn live_capture_stops_at_count_with_roles_and_verdicts() {
    assert!(
        is_root(),
        "live capture in a network namespace needs root (CI runs as root)"
    );
    let ns = Netns::new("count");
    let live = Live::start(
        &ns,
        &[
            "-i", "lo", "-c", "20", "--format", "json", "tcp", "port", "5555",
        ],
    );
    // Four connections make about forty packets: -c 20 stops in the third.
    ns.connect(4);
    let (code, out, err) = live.finish(20, false);
    assert_eq!(code, Some(0), "{err:?}");
    let packets: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(packets.len(), 20);
    assert_eq!(packets[0]["role"], "handshake-1");
    assert_eq!(packets[0]["dport"], 5555);
    for conn in [0, 1] {
        let roles = roles_of(&packets, conn);
        for r in [
            "handshake-1",
            "handshake-2",
            "handshake-3",
            "teardown-1",
            "teardown-2",
            "teardown-3",
            "teardown-4",
        ] {
            assert!(
                roles.iter().any(|x| x == r),
                "conn {conn}: {r} missing from {roles:?}"
            );
        }
    }
    // The server closed first.
    let t1 = packets.iter().find(|p| p["role"] == "teardown-1").unwrap();
    assert_eq!(t1["dir"], "s2c");
    // On stop: the connections table and tcpdump's statistics on stderr.
    assert!(err.iter().any(|l| l.starts_with("CONN  CLIENT")), "{err:?}");
    assert!(
        err.iter()
            .any(|l| l.contains("127.0.0.1:5555") && l.contains("three-way")),
        "{err:?}"
    );
    assert!(err.iter().any(|l| l == "20 packets captured"), "{err:?}");
}

#[test]
fn live_conns_are_printed_on_ctrl_c() {
    assert!(
        is_root(),
        "live capture in a network namespace needs root (CI runs as root)"
    );
    let ns = Netns::new("sigint");
    let live = Live::start(
        &ns,
        &[
            "conns", "--format", "json", "-i", "lo", "tcp", "port", "5555",
        ],
    );
    ns.connect(2);
    // Let the last packets reach synack (libpcap hands them over in blocks).
    std::thread::sleep(Duration::from_millis(500));
    let (code, out, err) = live.finish(10, true);
    assert_eq!(code, Some(0), "{err:?}");
    let verdicts: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), 2, "{out}");
    for (i, v) in verdicts.iter().enumerate() {
        assert_eq!(v["conn"], i as u64);
        assert_eq!(v["server_port"], 5555);
        assert_eq!(v["open"], "three-way");
        assert_eq!(v["close"], "fin");
        assert_eq!(v["active_closer"], "server");
        assert_eq!(v["bytes_c2s"], 4);
        assert_eq!(v["bytes_s2c"], 4);
    }
}

#[test]
fn tcpdump_writing_to_a_pipe_feeds_synack() {
    assert!(
        is_root(),
        "live capture in a network namespace needs root (CI runs as root)"
    );
    let ns = Netns::new("pipe");
    // `tcpdump -U -w - | synack -`: packets reach synack as they are captured.
    let mut tcpdump = ns
        .command("tcpdump")
        .args([
            "-i", "lo", "-U", "-c", "20", "-w", "-", "tcp", "port", "5555",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump runs (CI installs it)");
    let mut td_err = BufReader::new(tcpdump.stderr.take().unwrap());
    let mut line = String::new();
    td_err.read_line(&mut line).unwrap();
    assert!(line.contains("listening on lo"), "{line}");
    let synack = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["--format", "json", "-"])
        .stdin(Stdio::from(tcpdump.stdout.take().unwrap()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    ns.connect(4);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tcpdump.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = tcpdump.kill();
            panic!("tcpdump did not stop at 20 packets");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = synack.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let packets: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(packets.len(), 20);
    let roles = roles_of(&packets, 0);
    assert!(roles.iter().any(|r| r == "handshake-3") && roles.iter().any(|r| r == "teardown-4"));
}
