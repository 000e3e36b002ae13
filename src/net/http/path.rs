//! Go's `path.Clean`, which net/http uses for redirects and (in ServeMux) for unclean
//! request paths.

/// The shortest path equivalent to `p` by purely lexical processing: repeated slashes
/// collapsed, `.` elements removed, `..` elements removed with the element before them;
/// "" becomes ".". Go: `path.Clean`.
pub(crate) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let b = p.as_bytes();
    let rooted = b[0] == b'/';
    let n = b.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if b[r] == b'/' || b[r] == b'.' && (r + 1 == n || b[r + 1] == b'/') {
            // An empty or `.` element.
            r += 1;
        } else if b[r] == b'.' && b[r + 1] == b'.' && (r + 2 == n || b[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if rooted && out.len() != 1 || !rooted && !out.is_empty() {
                out.push(b'/');
            }
            while r < n && b[r] != b'/' {
                out.push(b[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".to_string();
    }
    // Only whole ASCII bytes were removed, so the rest is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Go: `path.Split`: everything up to and including the last `/`, and the rest.
pub(crate) fn split(p: &str) -> (&str, &str) {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    (&p[..i], &p[i..])
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn clean_like_go() {
        for (p, want) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            ("a/b/c/..", "a/b"),
            ("/", "/"),
            ("//abc", "/abc"),
            ("abc//", "abc"),
            ("./abc", "abc"),
            ("/../abc", "/abc"),
            ("../../abc", "../../abc"),
            ("abc/../../x", "../x"),
            ("/a/./b/../c/", "/a/c"),
            ("..", ".."),
            ("a/..", "."),
        ] {
            assert_eq!(clean(p), want, "{p}");
        }
    }
}
