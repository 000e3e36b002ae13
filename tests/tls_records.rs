//! The record checks a TLS conn runs on what it reads (Go's first-record checks, record
//! boundaries for io.EOF vs unexpected EOF, the ClientHello's versions), as proptests:
//! the answer never depends on how the stream is cut into reads, well-formed streams
//! pass and end on a boundary, cut ones do not, and the versions a ClientHello offers
//! come back as sent. (fuzz/fuzz_targets/tls_records.rs drives the same function.)

use gonet::crypto::tls::__observe_records as observe;
use proptest::prelude::*;

fn record(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![typ, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn client_hello(versions: &[u16], extra_ext: &[u8]) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    let mut sv = vec![(versions.len() * 2) as u8];
    for v in versions {
        sv.extend_from_slice(&v.to_be_bytes());
    }
    let mut exts = extra_ext.to_vec();
    exts.extend_from_slice(&43u16.to_be_bytes());
    exts.extend_from_slice(&(sv.len() as u16).to_be_bytes());
    exts.extend_from_slice(&sv);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    record(22, &hs)
}

proptest! {
    #[test]
    fn the_answer_does_not_depend_on_how_reads_cut_the_stream(
        stream in proptest::collection::vec(any::<u8>(), 0..600),
        cut in 1usize..64,
    ) {
        let whole = observe(&[&stream]);
        let chunks: Vec<&[u8]> = stream.chunks(cut).collect();
        prop_assert_eq!(observe(&chunks), whole);
    }

    #[test]
    fn well_formed_streams_pass_and_cut_ones_are_not_at_a_boundary(
        bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..6),
        short in 1usize..5,
    ) {
        let mut stream = Vec::new();
        for (i, b) in bodies.iter().enumerate() {
            stream.extend(record(if i == 0 { 22 } else { 23 }, b));
        }
        let (ok, boundary, _) = observe(&[&stream]);
        prop_assert!(ok.is_ok());
        prop_assert!(boundary);
        let cut = &stream[..stream.len() - short];
        let (ok, boundary, _) = observe(&[cut]);
        prop_assert!(ok.is_ok());
        prop_assert!(!boundary);
    }

    #[test]
    fn a_client_hello_gives_back_the_versions_it_offers(
        versions in proptest::collection::vec(any::<u16>(), 1..8),
        ext_body in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        // Another extension before supported_versions (type 0xff01, any body).
        let mut extra = 0xff01u16.to_be_bytes().to_vec();
        extra.extend_from_slice(&(ext_body.len() as u16).to_be_bytes());
        extra.extend_from_slice(&ext_body);
        let hello = client_hello(&versions, &extra);
        let (ok, boundary, got) = observe(&[&hello]);
        prop_assert!(ok.is_ok());
        prop_assert!(boundary);
        prop_assert_eq!(got, Some(versions));
    }

    #[test]
    fn a_first_byte_that_is_not_handshake_or_alert_is_refused(
        first in any::<u8>().prop_filter("not TLS", |b| *b != 21 && *b != 22 && *b != 0x80),
        rest in proptest::collection::vec(any::<u8>(), 4..20),
    ) {
        let mut s = vec![first];
        s.extend_from_slice(&rest);
        let (ok, _, _) = observe(&[&s]);
        prop_assert_eq!(ok, Err("first record does not look like a TLS handshake".to_string()));
    }
}
