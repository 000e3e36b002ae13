//! PROXY protocol headers under arbitrary input (gonet::net::proxyproto): the parser
//! never panics; what it accepts it took only the bytes of (never past the input); a
//! header it accepts writes back (when gonet can write it) to bytes that parse to the
//! same header; and the streaming parser agrees with the whole-buffer one: every prefix
//! of an accepted header asks for more, never for a byte past the header.
#![no_main]

use gonet::net::proxyproto::{__parse_stream, Header};
use gonet::net::{Addr, UnixAddr};
use libfuzzer_sys::fuzz_target;

/// What a version 2 header carries of `a`: a Unix name (which parsing made UTF-8, with
/// U+FFFD for bad bytes, so it may have grown past 108 bytes) cut to the 108 bytes of the
/// format at a character boundary; any other address as it is.
fn written(a: &Option<Addr>) -> Option<Addr> {
    match a {
        Some(Addr::Unix(u)) => {
            let mut n = u.name.len().min(108);
            while !u.name.is_char_boundary(n) {
                n -= 1;
            }
            Some(Addr::Unix(UnixAddr::new(u.name[..n].to_string(), &u.net)))
        }
        other => other.clone(),
    }
}

fuzz_target!(|data: &[u8]| {
    let whole = Header::parse(data);
    let stream = __parse_stream(data);
    match (&whole, &stream) {
        (Ok((h, n)), Ok(Ok(Some((h2, n2))))) => {
            assert!(*n <= data.len());
            assert_eq!((h, n), (h2, n2));
            for k in 0..*n {
                match __parse_stream(&data[..k]) {
                    Ok(Err(need)) => assert!(need > k && need <= *n, "prefix {k} asked {need}"),
                    other => panic!("prefix {k} of an accepted header: {other:?}"),
                }
            }
            if let Ok(wire) = h.format() {
                let (back, m) = Header::parse(&wire).expect("a written header parses");
                assert_eq!(m, wire.len());
                // v1 writes PROXY UNKNOWN for what it cannot say; v2 normalises bytes.
                if h.version == 2 && !h.command.is_unspec() {
                    assert_eq!(back.source_addr, written(&h.source_addr));
                    assert_eq!(back.destination_addr, written(&h.destination_addr));
                    assert_eq!(back.raw_tlvs(), h.raw_tlvs());
                }
            }
        }
        (Err(e), Ok(Err(_))) => {
            // Cut short: the error says what was missing, never a panic.
            assert!(!e.to_string().is_empty());
        }
        (Err(_), Ok(Ok(None))) | (Err(_), Err(_)) => {}
        other => panic!("whole and stream parsers disagree: {other:?}"),
    }
});
