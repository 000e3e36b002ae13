//! Go's `net/url` package: URLs, query strings and percent-encoding.
//!
//! `use gonet::net::url;` mirrors Go's `import "net/url"`. net/http parses every request
//! target with [`Url::parse_request_uri`] and every query and form with
//! [`parse_query`], so handlers see the same `r.url.path` and `r.form_value(..)` as
//! in Go.
//!
//! ```
//! use gonet::net::url;
//! let u = url::Url::parse("http://example.com/search?q=go+rust&lang=en").unwrap();
//! let q = u.query();
//! assert_eq!(q.get("q"), "go rust");
//! assert_eq!(url::query_escape("a&b"), "a%26b");
//! ```
//!
//! Go's strings are bytes and Rust's are UTF-8: where Go would decode `%FF` into a byte
//! that is not UTF-8, the decoded `String` holds U+FFFD instead (the raw fields,
//! `raw_path` and `raw_query`, keep what was sent).

mod escape;
// Go's url.go: the file is named after Go's.
#[allow(clippy::module_inception)]
mod url;
mod values;

#[allow(unused_imports)]
pub(crate) use self::escape::quote;
pub use self::escape::{
    EscapeError, InvalidHostError, path_escape, path_unescape, query_escape, query_unescape,
};
#[allow(unused_imports)]
pub(crate) use self::url::valid_optional_port;
pub use self::url::{Error, Url, Userinfo};
pub(crate) use self::values::parse_query_into;
pub use self::values::{QueryError, Values, parse_query};
