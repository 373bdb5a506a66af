//! Charset decoding from raw bytes (stub: replaced by the real decoder).

/// Text decoded from bytes, with the encoding that was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// WHATWG name of the encoding used, e.g. `UTF-8`, `gb18030`.
    pub encoding: &'static str,
}

/// Decode a fetched body. `content_type` is the HTTP `Content-Type` header.
pub fn decode(bytes: &[u8], _content_type: Option<&str>) -> Decoded {
    Decoded {
        text: String::from_utf8_lossy(bytes).into_owned(),
        encoding: "UTF-8",
    }
}
