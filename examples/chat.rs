//! The classic Go broadcast chat server, line for line with its Go twin
//! (examples/go/chat.go): one broadcaster coroutine fed by channels, one coroutine per
//! client reading its lines and one writing them, and `select!` where Go uses `select`.
//!
//! ```text
//! cargo run --release --example chat              # listens on :8000
//! cargo run --release --example chat -- :9000     # or any address gonet::listen takes
//! nc localhost 8000                               # in two or more terminals
//! ```
//!
//! The protocol, one line at a time (a line ends with "\n" or "\r\n"):
//! - the server asks `your nick?`; the first line a client sends is its nickname (spaces
//!   trimmed; an empty one becomes the client's address);
//! - the newcomer gets `* welcome, NICK; online: A, B, NICK` (every nick, sorted) and the
//!   others get `* NICK joined`;
//! - every other line is sent to everyone, the sender included, as `NICK: text`;
//! - `/quit` (or closing the connection) leaves: the others get `* NICK left`, and the
//!   server closes the connection once the client's pending lines are written.
//!
//! Each client's outgoing lines wait in a channel of 64; a client too slow to take them
//! loses lines (a `select!` with a `default` arm) instead of stalling the whole room.
//! Lines longer than 64 KiB end the client's session, as Go's `bufio.Scanner` does;
//! invalid UTF-8 is replaced by U+FFFD (Go passes the bytes through).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use gonet as net;
use gonet::{Receiver, Sender};

/// A client as the broadcaster sees it.
// type client struct { nick string; ch chan<- string }
struct Client {
    /// Go keys the broadcaster's map by the *client pointer; Rust by a connection number.
    id: u64,
    nick: String,
    /// The client's outgoing lines, written by its `client_writer`.
    ch: Sender<String>,
}

/// The broadcaster's three inputs, handed to every connection's handler.
// entering, leaving chan *client; messages chan string
#[derive(Clone)]
struct Hub {
    entering: Sender<Client>,
    leaving: Sender<u64>,
    messages: Sender<String>,
}

// func broadcaster(entering, leaving <-chan *client, messages <-chan string) {
fn broadcaster(entering: Receiver<Client>, leaving: Receiver<u64>, messages: Receiver<String>) {
    // clients := make(map[*client]bool)
    let mut clients: HashMap<u64, Client> = HashMap::new();
    loop {
        // select {
        net::select! {
            // case msg := <-messages:
            recv(messages) -> msg => {
                let Some(msg) = msg else { return };
                broadcast(&clients, &msg);
            }
            // case cli := <-entering:
            recv(entering) -> cli => {
                let Some(cli) = cli else { return };
                let mut nicks: Vec<&str> = clients.values().map(|c| c.nick.as_str()).collect();
                nicks.push(&cli.nick);
                nicks.sort_unstable(); // sort.Strings(nicks)
                deliver(&cli, format!("* welcome, {}; online: {}\n", cli.nick, nicks.join(", ")));
                broadcast(&clients, &format!("* {} joined\n", cli.nick));
                clients.insert(cli.id, cli);
            }
            // case cli := <-leaving:
            recv(leaving) -> id => {
                let Some(id) = id else { return };
                if let Some(cli) = clients.remove(&id) {
                    // close(cli.ch): its writer finishes the lines queued so far, then stops.
                    let _ = cli.ch.close();
                    broadcast(&clients, &format!("* {} left\n", cli.nick));
                }
            }
        }
    }
}

/// Sends `msg` to every client.
fn broadcast(clients: &HashMap<u64, Client>, msg: &str) {
    // for cli := range clients { deliver(cli, msg) }
    for cli in clients.values() {
        deliver(cli, msg.to_string());
    }
}

/// Queues `msg` for one client without ever blocking the broadcaster.
fn deliver(cli: &Client, msg: String) {
    // select {
    net::select! {
        // case cli.ch <- msg:
        send(cli.ch, msg) => {}
        // default: // its queue is full: drop the line rather than stall the room
        default => log::warn!("{}: too slow, a line was dropped", cli.nick),
    }
}

// func handleConn(conn net.Conn, h hub) {  (`id` stands in for Go's *client map key)
fn handle_conn(conn: net::Conn, id: u64, hub: Hub) {
    // ch := make(chan string, 64)
    let (ch, outgoing) = net::chan::<String>(64);
    // done := make(chan struct{}); go clientWriter(conn, ch, done)
    let writer = {
        let conn = conn.clone();
        net::go!(move || client_writer(conn, outgoing))
    };
    let _ = ch.send("your nick?\n".to_string());
    // input := bufio.NewScanner(conn)
    let mut input = Scanner::new(conn.clone());
    // if !input.Scan() { close(ch); <-done; return }
    let Some(first) = input.scan() else {
        let _ = ch.close();
        let _ = writer.join();
        return;
    };
    // nick := strings.TrimSpace(input.Text())
    let mut nick = first.trim().to_string();
    if nick.is_empty() {
        nick = conn.remote_addr().to_string();
    }
    // entering <- &client{nick, ch}
    let cli = Client {
        id,
        nick: nick.clone(),
        ch,
    };
    if hub.entering.send(cli).is_err() {
        return;
    }
    // for input.Scan() {
    while let Some(line) = input.scan() {
        // if line == "/quit" { break }
        if line == "/quit" {
            break;
        }
        // messages <- nick + ": " + line
        if hub.messages.send(format!("{nick}: {line}\n")).is_err() {
            break;
        }
    }
    // leaving <- cli
    let _ = hub.leaving.send(id);
    // <-done: the broadcaster closed ch and the writer flushed what was queued.
    let _ = writer.join();
    // defer conn.Close(): `conn` drops here.
}

// func clientWriter(conn net.Conn, ch <-chan string, done chan<- struct{}) {
fn client_writer(conn: net::Conn, ch: Receiver<String>) {
    // for msg := range ch {
    for msg in ch.iter() {
        // if _, err := io.WriteString(conn, msg); err != nil {
        if let Err(e) = conn.write(msg.as_bytes()) {
            // A dead client: close the conn, which ends its reader too.
            log::info!("{}: {e}", conn.remote_addr());
            let _ = conn.close();
            // for range ch {}: let the broadcaster close ch as usual
            for _ in ch.iter() {}
            return;
        }
    }
    // defer close(done): the handler's writer.join() returns.
}

/// Go's `bufio.MaxScanTokenSize`: the longest line a `bufio.Scanner` accepts, "\n" included.
const MAX_LINE: u64 = 64 * 1024;

/// Go's `bufio.Scanner` with `ScanLines`: one line at a time, without its "\n" or "\r\n".
struct Scanner {
    r: BufReader<net::Conn>,
    line: Vec<u8>,
}

impl Scanner {
    fn new(conn: net::Conn) -> Scanner {
        Scanner {
            r: BufReader::new(conn),
            line: Vec::new(),
        }
    }

    /// The next line; `None` at end of stream, on an error, or on a line over 64 KiB (Go's
    /// `Scan() == false`, with `Err()` logged).
    fn scan(&mut self) -> Option<String> {
        self.line.clear();
        match (&mut self.r)
            .take(MAX_LINE)
            .read_until(b'\n', &mut self.line)
        {
            Ok(0) => return None, // io.EOF
            Ok(_) => {}
            Err(e) => {
                log::info!("{}: {e}", self.r.get_ref().remote_addr());
                return None;
            }
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        } else if self.line.len() as u64 == MAX_LINE {
            log::info!(
                "{}: bufio.Scanner: token too long",
                self.r.get_ref().remote_addr()
            );
            return None;
        }
        // dropCR: a final line without "\n" loses its "\r" too, as in Go.
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        Some(String::from_utf8_lossy(&self.line).into_owned())
    }
}

/// Go's `log.Fatal(err)`: the error's text on stderr, exit status 1.
fn fatal(e: std::io::Error) -> ! {
    eprintln!("{e}");
    std::process::exit(1)
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,may=warn"))
        .init();
    // addr := ":8000"; if len(os.Args) > 1 { addr = os.Args[1] }
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ":8000".to_string());
    // ln, err := net.Listen("tcp", addr); if err != nil { log.Fatal(err) }
    let ln = net::listen("tcp", &addr).unwrap_or_else(|e| fatal(e));
    eprintln!("chat: listening on {}", ln.addr());

    // entering := make(chan *client); leaving := ...; messages := make(chan string)
    let (entering, entering_rx) = net::chan::<Client>(0);
    let (leaving, leaving_rx) = net::chan::<u64>(0);
    let (messages, messages_rx) = net::chan::<String>(0);
    let hub = Hub {
        entering,
        leaving,
        messages,
    };
    // go broadcaster(entering, leaving, messages)
    net::go!(move || broadcaster(entering_rx, leaving_rx, messages_rx));

    let mut delay = Duration::ZERO;
    for id in 0.. {
        // conn, err := ln.Accept()
        let conn = loop {
            match ln.accept() {
                Ok(conn) => break conn,
                Err(e) if net::is_temporary(&e) => {
                    // net/http's Server.Serve: back off 5 ms, doubling up to 1 s.
                    delay = (delay * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                    log::warn!("accept error: {e}; retrying in {delay:?}");
                    net::time::sleep(delay);
                }
                Err(e) => fatal(e),
            }
        };
        delay = Duration::ZERO;
        // go handleConn(conn, h)
        let hub = hub.clone();
        net::go!(move || handle_conn(conn, id, hub));
    }
}
