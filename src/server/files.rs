//! The published site over HTTP: files of the output directory with their
//! content types, strong ETags and Last-Modified, answering conditional
//! requests with 304 (feed readers poll often), and never a file outside
//! the output directory.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Where a request path leads.
#[derive(Debug, PartialEq)]
pub enum Resolved {
    File(PathBuf),
    /// A directory asked for without its trailing slash.
    RedirectTo(String),
    NotFound,
}

/// Serve `uri` from `root`.
pub async fn serve_file(root: &Path, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let path = match resolve(root, uri.path()) {
        Resolved::File(path) => path,
        Resolved::RedirectTo(location) => {
            return (
                StatusCode::PERMANENT_REDIRECT,
                [(header::LOCATION, location)],
            )
                .into_response()
        }
        Resolved::NotFound => return not_found(),
    };
    let (body, modified) = match read(&path).await {
        Some(found) => found,
        None => return not_found(),
    };
    let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&body));
    let last_modified = modified.map(http_date);
    let mut response = if not_modified(headers, &etag, modified) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(body));
        if let Ok(value) = HeaderValue::from_str(content_type(&path)) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
    };
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    if let Some(value) = last_modified.and_then(|d| HeaderValue::from_str(&d).ok()) {
        out.insert(header::LAST_MODIFIED, value);
    }
    // Caches may keep a copy but must ask again each time (the ETag makes
    // that cheap), so a new digest shows at once.
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found\n",
    )
        .into_response()
}

async fn read(path: &Path) -> Option<(Vec<u8>, Option<DateTime<Utc>>)> {
    let metadata = tokio::fs::metadata(path).await.ok()?;
    if !metadata.is_file() {
        return None;
    }
    let modified = metadata.modified().ok().map(DateTime::<Utc>::from);
    let body = tokio::fs::read(path).await.ok()?;
    Some((body, modified))
}

/// Map a request path to a file under `root`. Refuses `..`, hidden names
/// (temporary files of atomic writes start with a dot), NULs and
/// backslashes, and anything whose real path (symlinks followed) leaves
/// `root`.
pub fn resolve(root: &Path, request_path: &str) -> Resolved {
    let Some(decoded) = percent_decode(request_path) else {
        return Resolved::NotFound;
    };
    let mut path = root.to_path_buf();
    let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    for segment in &segments {
        if segment.starts_with('.') || segment.contains('\\') || segment.contains('\0') {
            return Resolved::NotFound;
        }
        path.push(segment);
    }
    let (Ok(real_root), Ok(real)) = (root.canonicalize(), path.canonicalize()) else {
        return Resolved::NotFound;
    };
    if !real.starts_with(&real_root) {
        return Resolved::NotFound;
    }
    if real.is_dir() {
        if !request_path.ends_with('/') {
            return Resolved::RedirectTo(format!("{request_path}/"));
        }
        return Resolved::File(real.join("index.html"));
    }
    Resolved::File(real)
}

/// `%XX`-decode a path; `None` when the result is not UTF-8 or an escape
/// is malformed.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type of a served file, by name.
pub fn content_type(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match (name, extension.as_deref()) {
        ("atom.xml", _) => "application/atom+xml; charset=utf-8",
        ("feed.xml" | "digests.xml" | "rss.xml", _) => "application/rss+xml; charset=utf-8",
        (_, Some("html" | "htm")) => "text/html; charset=utf-8",
        (_, Some("md" | "markdown")) => "text/markdown; charset=utf-8",
        (_, Some("xml")) => "application/xml; charset=utf-8",
        (_, Some("css")) => "text/css; charset=utf-8",
        (_, Some("js")) => "text/javascript; charset=utf-8",
        (_, Some("json")) => "application/json",
        (_, Some("txt")) => "text/plain; charset=utf-8",
        (_, Some("svg")) => "image/svg+xml",
        (_, Some("png")) => "image/png",
        (_, Some("jpg" | "jpeg")) => "image/jpeg",
        (_, Some("gif")) => "image/gif",
        (_, Some("webp")) => "image/webp",
        (_, Some("ico")) => "image/x-icon",
        (_, Some("woff2")) => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// RFC 9110: If-None-Match wins over If-Modified-Since.
fn not_modified(headers: &HeaderMap, etag: &str, modified: Option<DateTime<Utc>>) -> bool {
    if let Some(value) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return value.split(',').map(str::trim).any(|candidate| {
            candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
        });
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
    match (since, modified) {
        (Some(since), Some(modified)) => modified.timestamp() <= since.timestamp(),
        _ => false,
    }
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("public");
        std::fs::create_dir_all(root.join("digest")).unwrap();
        std::fs::write(root.join("index.html"), "i").unwrap();
        std::fs::write(root.join("digest/2022-12-19.md"), "m").unwrap();
        std::fs::write(root.join(".yaowen-tmp-1"), "t").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        let real_root = root.canonicalize().unwrap();
        assert_eq!(
            resolve(&root, "/"),
            Resolved::File(real_root.join("index.html"))
        );
        assert_eq!(
            resolve(&root, "/digest/2022-12-19.md"),
            Resolved::File(real_root.join("digest/2022-12-19.md"))
        );
        assert_eq!(
            resolve(&root, "/digest"),
            Resolved::RedirectTo("/digest/".into())
        );
        for hostile in [
            "/../secret",
            "/digest/../../secret",
            "/%2e%2e/secret",
            "/%2E%2E%2Fsecret",
            "/..%5csecret",
            "/.yaowen-tmp-1",
            "/index.html%00",
            "/%zz",
        ] {
            assert_eq!(resolve(&root, hostile), Resolved::NotFound, "{hostile}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
            assert_eq!(resolve(&root, "/link"), Resolved::NotFound);
        }
    }

    #[test]
    fn content_types_name_feeds_and_markdown() {
        assert_eq!(
            content_type(Path::new("feed.xml")),
            "application/rss+xml; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("atom.xml")),
            "application/atom+xml; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("digest/2022-12-19.md")),
            "text/markdown; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
    }

    #[test]
    fn http_dates_round_trip() {
        let at = DateTime::parse_from_rfc3339("1994-11-06T08:49:37Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            DateTime::parse_from_rfc2822(&http_date(at)).unwrap(),
            at.fixed_offset()
        );
    }
}
