//! A small JSON REST service with gonet::net::http, line for line with its Go twin
//! (examples/go/rest.go, net/http): the same routes, the same bytes on the wire, the same
//! log lines.
//!
//! ```text
//! cargo run --release --example rest                  # listens on :8082, grace 10s
//! cargo run --release --example rest -- :9000 30s     # any address, any Go duration
//! curl -i -d '{"name":"apple","qty":3}' localhost:8082/items   # 201, Location: /items/1
//! curl -i localhost:8082/items          # 200: [{"id":1,"name":"apple","qty":3}]
//! curl -i localhost:8082/items/1        # 200: {"id":1,"name":"apple","qty":3}
//! curl -i -X DELETE localhost:8082/items/1                     # 204
//! curl -i -X PUT localhost:8082/items   # 405, Allow: GET, HEAD, POST
//! ```
//!
//! What Go servers are made of, ported one for one:
//! - Go 1.22 `ServeMux` patterns (`"GET /items/{id}"`, `r.path_value("id")`); the mux
//!   answers 404 for a path no pattern matches and 405 with `Allow` for another method.
//! - An in-memory store behind a mutex (`gonet::sync::Mutex`: it parks the coroutine,
//!   not the worker thread).
//! - JSON in and out. The answers are encoding/json's bytes: fields in struct order,
//!   `json.Encoder`'s trailing newline, `<`, `>`, `&`, U+2028 and U+2029 escaped as Go
//!   escapes them; field names matched without regard to case, `null` leaving a field
//!   as it was, invalid UTF-8 read as U+FFFD (the `gojson` module below). serde_json
//!   still refuses two things Go takes: a lone surrogate escape (`"\ud800"`, Go: U+FFFD)
//!   and nesting past 128 levels (Go: 10000).
//! - `http::max_bytes_reader` on the body: 413 past 64 KiB.
//! - A logging middleware in Go's shape (`func(next http.Handler) http.Handler`) whose
//!   writer records the status and counts the body bytes; the lines are Go's `log`
//!   format: `2009/11/10 23:00:00 GET /items 200 42`.
//! - Graceful shutdown: on SIGINT or SIGTERM, `srv.shutdown(&ctx)` with a
//!   `context::with_timeout(grace)`: the listener closes ("rest: shutting down"), the
//!   requests in flight finish, "rest: stopped", exit 0; past grace,
//!   "rest: shutdown: context deadline exceeded" and exit 1.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use gonet::context;
use gonet::log;
use gonet::net;
use gonet::net::http::{self, Handler, HandlerFunc, Header, Request, ResponseWriter};
use gonet::signal::{self, Signal};
use gonet::sync::Mutex;
use serde::Serialize;

/// const maxBody = 64 << 10: the most a POST body may hold.
const MAX_BODY: i64 = 64 << 10;

/// type item struct { ID int `json:"id"`; Name string `json:"name"`; Qty int `json:"qty"` }
#[derive(Clone, Serialize)]
struct Item {
    id: i64,
    name: String,
    qty: i64,
}

/// The items in memory, behind a mutex: handlers run concurrently. Go: `type store
/// struct { mu sync.Mutex; items map[int]item; nextID int }`.
struct Store {
    mu: Mutex<Items>,
}

struct Items {
    items: BTreeMap<i64, Item>,
    next_id: i64,
}

/// Sends `v` as JSON with status `code`: one line and a newline, as `json.Encoder`
/// writes it. Go: `writeJSON(w, code, v)`.
fn write_json(w: &mut dyn ResponseWriter, code: u16, v: &impl Serialize) {
    w.header().set("Content-Type", "application/json");
    w.write_header(code);
    // json.NewEncoder(w).Encode(v)
    if let Ok(b) = gojson::encode(v) {
        let _ = w.write(&b);
    }
}

/// Go: `writeJSON(w, code, map[string]string{"error": msg})`.
fn write_error(w: &mut dyn ResponseWriter, code: u16, msg: &str) {
    write_json(w, code, &BTreeMap::from([("error", msg)]));
}

impl Store {
    fn new() -> Store {
        Store {
            mu: Mutex::new(Items {
                items: BTreeMap::new(),
                next_id: 1,
            }),
        }
    }

    /// GET /items: the items in id order.
    fn list(&self, w: &mut dyn ResponseWriter, _r: &mut Request) {
        let items: Vec<Item> = self.lock().items.values().cloned().collect();
        write_json(w, http::STATUS_OK, &items);
    }

    /// POST /items
    fn create(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        // body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
        let mut body = Vec::new();
        let mut limited = http::max_bytes_reader(w, std::mem::take(&mut r.body), MAX_BODY);
        if let Err(e) = limited.read_to_end(&mut body) {
            if http::Error::of(&e) == Some(http::Error::MaxBytes) {
                write_error(
                    w,
                    http::STATUS_REQUEST_ENTITY_TOO_LARGE,
                    "request body too large",
                );
                return;
            }
            write_error(w, http::STATUS_BAD_REQUEST, "cannot read the request body");
            return;
        }
        // var in struct { Name string `json:"name"`; Qty int `json:"qty"` }
        // if err := json.Unmarshal(body, &in); err != nil { ... }
        let Ok(input) = NewItem::unmarshal(&body) else {
            write_error(
                w,
                http::STATUS_BAD_REQUEST,
                r#"want {"name": string, "qty": integer}"#,
            );
            return;
        };
        if input.name.is_empty() {
            write_error(w, http::STATUS_BAD_REQUEST, "name is required");
            return;
        }
        if input.qty < 0 {
            write_error(w, http::STATUS_BAD_REQUEST, "qty must not be negative");
            return;
        }
        let it = {
            let mut s = self.lock();
            let it = Item {
                id: s.next_id,
                name: input.name,
                qty: input.qty,
            };
            s.items.insert(it.id, it.clone());
            s.next_id += 1;
            it
        };
        w.header().set("Location", &format!("/items/{}", it.id));
        write_json(w, http::STATUS_CREATED, &it);
    }

    /// GET /items/{id}
    fn get(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        // id, err := strconv.Atoi(r.PathValue("id"))
        let Ok(id) = r.path_value("id").parse::<i64>() else {
            write_error(w, http::STATUS_BAD_REQUEST, "id must be a number");
            return;
        };
        let found = self.lock().items.get(&id).cloned();
        match found {
            Some(it) => write_json(w, http::STATUS_OK, &it),
            None => write_error(w, http::STATUS_NOT_FOUND, "no such item"),
        }
    }

    /// DELETE /items/{id}
    fn delete(&self, w: &mut dyn ResponseWriter, r: &mut Request) {
        let Ok(id) = r.path_value("id").parse::<i64>() else {
            write_error(w, http::STATUS_BAD_REQUEST, "id must be a number");
            return;
        };
        if self.lock().items.remove(&id).is_none() {
            write_error(w, http::STATUS_NOT_FOUND, "no such item");
            return;
        }
        w.write_header(http::STATUS_NO_CONTENT);
    }

    /// s.mu.Lock() (a panic while locked poisons may's mutex; the data is still whole).
    fn lock(&self) -> gonet::sync::MutexGuard<'_, Items> {
        self.mu.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The body of POST /items. Go: `var in struct { Name string; Qty int }` and
/// `json.Unmarshal(body, &in)`.
#[derive(Default)]
struct NewItem {
    name: String,
    qty: i64,
}

impl NewItem {
    /// encoding/json's rules for this struct: `null` (top-level or a field's) leaves the
    /// fields as they are, keys match field names without regard to case, the last of
    /// two keys wins, unknown keys are skipped, a value of the wrong type (a string for
    /// qty, 1.5 or 1e2 for an int) is an error.
    fn unmarshal(body: &[u8]) -> Result<NewItem, ()> {
        use serde_json::Value;
        let mut v = NewItem::default();
        let mut ok = true;
        for (key, value) in gojson::object(body)?.unwrap_or_default() {
            if key.eq_ignore_ascii_case("name") {
                match value {
                    Value::Null => {}
                    Value::String(s) => v.name = s,
                    _ => ok = false,
                }
            } else if key.eq_ignore_ascii_case("qty") {
                match value {
                    Value::Null => {}
                    Value::Number(n) => match n.as_i64() {
                        Some(n) => v.qty = n,
                        None => ok = false,
                    },
                    _ => ok = false,
                }
            }
        }
        ok.then_some(v).ok_or(())
    }
}

/// `handler` bound to the store: Go's method value `s.list`.
fn method(
    s: &Arc<Store>,
    handler: fn(&Store, &mut dyn ResponseWriter, &mut Request),
) -> impl Fn(&mut dyn ResponseWriter, &mut Request) + Send + Sync + 'static + use<> {
    let s = s.clone();
    move |w, r| handler(&s, w, r)
}

/// A writer that remembers the status code and counts the body bytes, for the log line.
/// Go: `type statusRecorder struct { http.ResponseWriter; status, bytes int }`. As with
/// Go's embedding, only `header`, `write` and `write_header` pass through (no flush, no
/// hijack).
struct StatusRecorder<'a> {
    w: &'a mut dyn ResponseWriter,
    status: u16,
    bytes: usize,
}

impl ResponseWriter for StatusRecorder<'_> {
    fn header(&mut self) -> &mut Header {
        self.w.header()
    }

    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.w.write(b)?;
        self.bytes += n;
        Ok(n)
    }

    fn write_header(&mut self, code: u16) {
        self.status = code;
        self.w.write_header(code);
    }
}

/// Logs every request once its handler has answered it.
/// Go: `func logging(next http.Handler) http.Handler`.
fn logging(next: impl Handler + 'static) -> impl Handler {
    HandlerFunc(move |w, r| {
        let mut rec = StatusRecorder {
            w,
            status: http::STATUS_OK,
            bytes: 0,
        };
        next.serve_http(&mut rec, r);
        log::printf!(
            "{} {} {} {}",
            r.method,
            r.request_uri,
            rec.status,
            rec.bytes
        );
    })
}

/// Go's `log.Fatal(err)`: the line on stderr, exit status 1.
fn fatal(e: impl std::fmt::Display) -> ! {
    log::fatal!(e.to_string())
}

fn main() {
    // gonet's own diagnostics ("http: panic serving ...") in the same format, as Go's
    // net/http logs through package log.
    let _ = log::route_log_crate(::log::LevelFilter::Warn);
    // addr, grace := ":8082", 10*time.Second
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| ":8082".to_string());
    let grace = match args.next() {
        None => Duration::from_secs(10),
        Some(g) => gonet::time::parse_duration(&g).unwrap_or_else(|e| fatal(e)),
    };

    let s = Arc::new(Store::new());
    let mux = http::ServeMux::new();
    mux.handle_func("GET /items", method(&s, Store::list));
    mux.handle_func("POST /items", method(&s, Store::create));
    mux.handle_func("GET /items/{id}", method(&s, Store::get));
    mux.handle_func("DELETE /items/{id}", method(&s, Store::delete));

    let ln = net::listen("tcp", &addr).unwrap_or_else(|e| fatal(e));
    // srv := &http.Server{Handler: logging(mux), ReadHeaderTimeout: 5 * time.Second}
    let srv = http::Server::new()
        .handler(logging(mux))
        .read_header_timeout(Duration::from_secs(5));

    // sigs := make(chan os.Signal, 1)
    // signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
    let (tx, sigs) = gonet::chan::<Signal>(1);
    signal::notify(&tx, &[Signal::INTERRUPT, Signal::TERM]).unwrap_or_else(|e| fatal(e));
    let (done_tx, done) = gonet::chan::<std::io::Result<()>>(1);
    let s = srv.clone();
    gonet::go!(move || {
        if sigs.recv().is_none() {
            return;
        }
        // ctx, cancel := context.WithTimeout(context.Background(), grace)
        // defer cancel()
        let (ctx, cancel) = context::with_timeout(&context::background(), grace);
        let _ = done_tx.send(s.shutdown(&ctx)); // done <- srv.Shutdown(ctx)
        cancel();
    });

    log::printf!("rest: listening on {}", ln.addr());
    // if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) { log.Fatal(err) }
    if let Err(e) = srv.serve(ln) {
        if http::Error::of(&e) != Some(http::Error::ServerClosed) {
            fatal(e);
        }
    }
    // Serve returns as soon as Shutdown has closed the listener; Shutdown goes on
    // waiting for the requests in flight.
    log::print!("rest: shutting down");
    match done.recv() {
        Some(Ok(())) => {}
        Some(Err(e)) => fatal(format!("rest: shutdown: {e}")),
        None => fatal("rest: shutdown: the signal coroutine ended"),
    }
    log::print!("rest: stopped");
}

/// encoding/json's bytes with serde_json: Go's escapes on the way out, Go's reading of
/// invalid UTF-8 and its field order on the way in.
mod gojson {
    use std::io::{self, Write};

    use serde::Serialize;
    use serde::de::{Deserializer as _, MapAccess, Visitor};
    use serde_json::Value;
    use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

    /// `json.NewEncoder(w).Encode(v)`'s bytes: compact JSON, Go's escapes, a newline.
    pub fn encode(v: &impl Serialize) -> serde_json::Result<Vec<u8>> {
        let mut out = Vec::new();
        v.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, GoEscapes,
        ))?;
        out.push(b'\n');
        Ok(out)
    }

    /// Go's string escapes (encode.go, `encodeState.string` with HTML escaping on, as
    /// json.Encoder has it by default): `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026`;
    /// U+2028 and U+2029 as `\u2028`, `\u2029`; control characters other than `\n`, `\r`
    /// and `\t` as `\u00XX` (Go 1.19; Go 1.22 writes `\b` and `\f` short).
    struct GoEscapes;

    impl Formatter for GoEscapes {
        fn write_string_fragment<W: ?Sized + Write>(
            &mut self,
            w: &mut W,
            s: &str,
        ) -> io::Result<()> {
            let mut start = 0;
            for (i, c) in s.char_indices() {
                let esc: &[u8] = match c {
                    '<' => b"\\u003c",
                    '>' => b"\\u003e",
                    '&' => b"\\u0026",
                    '\u{2028}' => b"\\u2028",
                    '\u{2029}' => b"\\u2029",
                    _ => continue,
                };
                w.write_all(&s.as_bytes()[start..i])?;
                w.write_all(esc)?;
                start = i + c.len_utf8();
            }
            w.write_all(&s.as_bytes()[start..])
        }

        fn write_char_escape<W: ?Sized + Write>(
            &mut self,
            w: &mut W,
            e: CharEscape,
        ) -> io::Result<()> {
            match e {
                CharEscape::Backspace => w.write_all(b"\\u0008"),
                CharEscape::FormFeed => w.write_all(b"\\u000c"),
                e => CompactFormatter.write_char_escape(w, e),
            }
        }
    }

    /// The body as Go's decoder reads it: each byte that is not part of valid UTF-8
    /// becomes U+FFFD (Go: `utf8.DecodeRune`'s `(RuneError, 1)`); only strings can hold
    /// them, anywhere else they are a syntax error either way.
    fn go_text(mut b: &[u8]) -> String {
        let mut s = String::with_capacity(b.len());
        loop {
            match std::str::from_utf8(b) {
                Ok(valid) => {
                    s.push_str(valid);
                    return s;
                }
                Err(e) => {
                    let (valid, rest) = b.split_at(e.valid_up_to());
                    s.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    s.push('\u{FFFD}');
                    b = &rest[1..];
                }
            }
        }
    }

    /// A top-level JSON object's members in document order (Go assigns them in that
    /// order, so the last of two keys for one field wins), `None` for `null`; anything
    /// else, or bytes after the value, is an error, as with `json.Unmarshal` into a
    /// struct.
    pub fn object(body: &[u8]) -> Result<Option<Vec<(String, Value)>>, ()> {
        let text = go_text(body);
        let mut de = serde_json::Deserializer::from_str(&text);
        let members = (&mut de).deserialize_any(Members).map_err(|_| ())?;
        de.end().map_err(|_| ())?;
        Ok(members)
    }

    struct Members;

    impl<'de> Visitor<'de> for Members {
        type Value = Option<Vec<(String, Value)>>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object or null")
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut members = Vec::new();
            while let Some(member) = m.next_entry::<String, Value>()? {
                members.push(member);
            }
            Ok(Some(members))
        }
    }
}
