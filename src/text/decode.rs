//! Charset decoding from raw bytes.
//!
//! Fetched feeds and pages arrive as bytes whose charset is declared in up to
//! four places (HTTP header, BOM, XML prolog, `<meta>`), often wrongly. The
//! rule here is: bytes that are valid UTF-8 are UTF-8 whatever anyone claims
//! (a wrong declaration is far more common than Latin-1 text that happens to
//! be valid UTF-8); otherwise trust the declarations in order of authority,
//! and let `chardetng` guess when nothing usable is declared. Mojibake repair
//! is not done here: callers repair per field (see `text::mojibake`).

use std::borrow::Cow;

use encoding_rs::{Encoding, GB18030, GBK, REPLACEMENT, UTF_16BE, UTF_16LE, UTF_8};

/// Text decoded from bytes, with the encoding that was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// WHATWG name of the encoding used, e.g. `UTF-8`, `gb18030`.
    pub encoding: &'static str,
}

/// How far into a document `<meta charset>` is looked for. Real pages put
/// long comments or scripts before it (miniflux has cases past 1 KB).
const META_SCAN_BYTES: usize = 16 * 1024;

/// How far into a document the XML prolog may end.
const PROLOG_SCAN_BYTES: usize = 1024;

/// Decode a fetched body. `content_type` is the HTTP `Content-Type` header.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return decode_with(encoding, &bytes[bom_len..]);
    }
    if let Some(encoding) = utf16_xml_without_bom(bytes) {
        return decode_with(encoding, bytes);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_string(),
            encoding: UTF_8.name(),
        };
    }
    let declared = content_type
        .and_then(charset_from_content_type)
        .or_else(|| xml_prolog_encoding(bytes))
        .or_else(|| meta_charset(bytes));
    match declared {
        Some(encoding) => decode_declared(encoding, bytes),
        None => decode_with(guess(bytes), bytes),
    }
}

/// Decode with a declared encoding; when that produces malformed sequences
/// and the detector's guess decodes cleanly, the declaration was wrong.
fn decode_declared(encoding: &'static Encoding, bytes: &[u8]) -> Decoded {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        let guessed = guess(bytes);
        if guessed != encoding {
            let (other, other_errors) = guessed.decode_without_bom_handling(bytes);
            if !other_errors {
                return Decoded {
                    text: other.into_owned(),
                    encoding: guessed.name(),
                };
            }
        }
    }
    Decoded {
        text: text.into_owned(),
        encoding: encoding.name(),
    }
}

fn decode_with(encoding: &'static Encoding, bytes: &[u8]) -> Decoded {
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    Decoded {
        text: text.into_owned(),
        encoding: encoding.name(),
    }
}

fn guess(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    usable(detector.guess(None, true)).unwrap_or(UTF_8)
}

/// The encoding a charset label names, or `None` for unknown labels and
/// labels that cannot describe bytes we could not read as UTF-8.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(|c| c == '"' || c == '\'');
    Encoding::for_label(label.as_bytes()).and_then(usable)
}

/// XML in UTF-16 without a BOM starts with `<?` as 16-bit units (XML 1.0
/// appendix F). Such bytes are technically valid UTF-8 (ASCII and NULs), so
/// this is checked before the UTF-8 rule.
fn utf16_xml_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.starts_with(b"\0<\0?") {
        Some(UTF_16BE)
    } else if bytes.starts_with(b"<\0?\0") {
        Some(UTF_16LE)
    } else {
        None
    }
}

/// GBK and GB2312 pages routinely use characters only GB18030 has (it is
/// a superset), so all of them decode as GB18030. The replacement encoding
/// (ISO-2022-KR and friends) would turn the whole text into U+FFFD, and the
/// bytes are not valid UTF-8, so a UTF-8 label is wrong too.
fn usable(encoding: &'static Encoding) -> Option<&'static Encoding> {
    if encoding == GBK {
        Some(GB18030)
    } else if encoding == REPLACEMENT || encoding == UTF_8 {
        None
    } else {
        Some(encoding)
    }
}

/// `charset` parameter of a `Content-Type` header value.
fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("charset") {
            encoding_for_label(value)
        } else {
            None
        }
    })
}

/// `encoding="..."` of an XML prolog at the very start of the document.
fn xml_prolog_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PROLOG_SCAN_BYTES)];
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = find(head, b"?>")?;
    let prolog = &head[..end];
    let at = find(prolog, b"encoding")? + b"encoding".len();
    let label = attribute_value(&prolog[at..])?;
    let encoding = encoding_for_label(label)?;
    // A prolog can only honestly declare UTF-16 alongside a BOM, handled
    // earlier; without one, bytes with a UTF-16 prolog are ASCII-compatible.
    if encoding == UTF_16LE || encoding == UTF_16BE {
        return None;
    }
    Some(encoding)
}

/// Charset from `<meta charset=...>` or `<meta http-equiv content="...;
/// charset=...">` anywhere in the first [`META_SCAN_BYTES`].
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(META_SCAN_BYTES)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(found) = find(&lower[from..], b"<meta") {
        let tag_start = from + found;
        let tag_end = lower[tag_start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |p| tag_start + p);
        let tag = &lower[tag_start..tag_end];
        if let Some(at) = find(tag, b"charset") {
            let value = attribute_value(&tag[at + b"charset".len()..]);
            if let Some(encoding) = value.and_then(encoding_for_label) {
                // WHATWG: a meta tag claiming UTF-16 means UTF-8, which the
                // bytes already failed; keep looking / fall through.
                if encoding != UTF_16LE && encoding != UTF_16BE {
                    return Some(encoding);
                }
            }
        }
        from = tag_end.max(tag_start + 1);
    }
    None
}

/// The value after `name`: optional spaces, `=`, optional quote, then the
/// label characters.
fn attribute_value(rest: &[u8]) -> Option<&str> {
    let rest = trim_ascii_start(rest);
    let rest = trim_ascii_start(rest.strip_prefix(b"=")?);
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let len = rest
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b"-_.:".contains(&b)))
        .unwrap_or(rest.len());
    let label = std::str::from_utf8(&rest[..len]).ok()?;
    (!label.is_empty()).then_some(label)
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Rewrite the `encoding` attribute of a leading XML prolog to `utf-8`.
///
/// Text handed on after [`decode`] is already Unicode; a parser that still
/// sees `encoding="gb2312"` would decode it a second time.
pub fn strip_xml_encoding_decl(text: &str) -> Cow<'_, str> {
    let start = text.len()
        - text
            .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
            .len();
    let Some(rest) = text[start..].strip_prefix("<?xml") else {
        return Cow::Borrowed(text);
    };
    let Some(prolog_len) = rest.find("?>") else {
        return Cow::Borrowed(text);
    };
    let prolog_start = start + "<?xml".len();
    let prolog = &rest[..prolog_len];
    let Some(value) = encoding_value_span(prolog) else {
        return Cow::Borrowed(text);
    };
    let (from, to) = (prolog_start + value.0, prolog_start + value.1);
    if text[from..to].eq_ignore_ascii_case("utf-8") {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!("{}utf-8{}", &text[..from], &text[to..]))
}

/// Byte span of the quoted value of `encoding=` inside an XML prolog.
fn encoding_value_span(prolog: &str) -> Option<(usize, usize)> {
    let at = prolog.find("encoding")? + "encoding".len();
    let after_name = &prolog[at..];
    let eq = after_name.find('=')?;
    if !after_name[..eq].trim().is_empty() {
        return None;
    }
    let after_eq = &after_name[eq + 1..];
    let quote_at = after_eq.find(['"', '\''])?;
    if !after_eq[..quote_at].trim().is_empty() {
        return None;
    }
    let quote = after_eq[quote_at..].chars().next()?;
    let value_start = at + eq + 1 + quote_at + 1;
    let value_len = prolog[value_start..].find(quote)?;
    Some((value_start, value_start + value_len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn corpus(path: &str) -> Vec<u8> {
        let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpora")
            .join(path);
        std::fs::read(&full).unwrap_or_else(|e| panic!("corpus file {}: {e}", full.display()))
    }

    fn gbk(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = GBK.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    const CHINESE: &str = "云原生社区 2020 年度总结及证书颁发";

    #[test]
    fn gbk_with_charset_header() {
        let body = gbk(&format!("<p>{CHINESE}</p>"));
        let decoded = decode(&body, Some("text/html; charset=GBK"));
        assert_eq!(decoded.text, format!("<p>{CHINESE}</p>"));
        assert_eq!(decoded.encoding, "gb18030");
    }

    #[test]
    fn gb2312_with_only_xml_prolog() {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"gb2312\"?><rss><title>{CHINESE}</title></rss>"
        );
        let decoded = decode(&gbk(&xml), Some("application/xml"));
        assert_eq!(decoded.text, xml);
        assert_eq!(decoded.encoding, "gb18030");
    }

    #[test]
    fn gb18030_only_characters_survive_a_gbk_label() {
        // "€" in GB18030 four-byte form is outside GBK; x-gbk pages use such.
        let (bytes, _, _) = GB18030.encode("价格 €5 𠀀");
        let decoded = decode(&bytes, Some("text/html; charset=x-gbk"));
        assert_eq!(decoded.text, "价格 €5 𠀀");
    }

    #[test]
    fn meta_charset_late_in_page() {
        let bytes =
            corpus("miniflux/internal/reader/encoding/testdata/iso-8859-1-meta-after-1024.html");
        let decoded = decode(&bytes, None);
        assert_eq!(decoded.encoding, "windows-1252");
        assert!(decoded.text.contains("Café"), "{}", decoded.text);
    }

    #[test]
    fn meta_http_equiv_content_charset() {
        let mut page =
            b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">"
                .to_vec();
        page.extend(gbk(CHINESE));
        let decoded = decode(&page, Some("text/html"));
        assert!(decoded.text.ends_with(CHINESE));
    }

    #[test]
    fn utf16_bom() {
        let mut le = vec![0xFF, 0xFE];
        le.extend(CHINESE.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&le, None).text, CHINESE);
        let mut be = vec![0xFE, 0xFF];
        be.extend(CHINESE.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(
            decode(&be, Some("text/xml; charset=iso-8859-1")).text,
            CHINESE
        );
    }

    #[test]
    fn latin1_declared_in_prolog_and_meta() {
        let xml = decode(
            &corpus("miniflux/internal/reader/encoding/testdata/iso-8859-1.xml"),
            None,
        );
        assert!(xml.text.contains("<title>Café</title>"));
        assert!(xml.text.contains("Présentation"));
        let html = decode(
            &corpus("miniflux/internal/reader/encoding/testdata/iso-8859-1.html"),
            None,
        );
        assert!(html.text.contains("Frédéric"));
    }

    #[test]
    fn koi8r_declared() {
        let decoded = decode(
            &corpus("miniflux/internal/reader/encoding/testdata/koi8r.xml"),
            None,
        );
        assert_eq!(decoded.encoding, "KOI8-R");
        assert!(
            decoded.text.contains("<title>Пример RSS"),
            "{}",
            decoded.text
        );
    }

    #[test]
    fn valid_utf8_beats_a_wrong_declaration() {
        for file in [
            "utf8-incorrect-prolog.xml",
            "invalid-prolog.xml",
            "windows-1252-incorrect-prolog.xml",
            "utf8-meta-after-1024.html",
        ] {
            let bytes = corpus(&format!(
                "miniflux/internal/reader/encoding/testdata/{file}"
            ));
            let decoded = decode(&bytes, Some("text/xml; charset=ISO-8859-1"));
            assert_eq!(decoded.encoding, "UTF-8", "{file}");
            assert!(!decoded.text.contains('Ã'), "{file}: {}", decoded.text);
        }
        let euro = decode(
            &corpus("miniflux/internal/reader/encoding/testdata/windows-1252-incorrect-prolog.xml"),
            None,
        );
        assert!(euro.text.contains("Euro €"));
    }

    #[test]
    fn windows1252_undefined_in_latin1_decodes_as_cp1252() {
        let decoded = decode(
            &corpus("miniflux/internal/reader/encoding/testdata/windows-1252.xml"),
            None,
        );
        assert!(decoded.text.contains("Euro €"));
    }

    fn feedparser(file: &str) -> Decoded {
        decode(&corpus(&format!("feedparser/tests/encoding/{file}")), None)
    }

    #[test]
    fn feedparser_declared_legacy_and_utf16_feeds() {
        assert!(feedparser("euc-kr.xml").text.contains("<title>년</title>"));
        for file in [
            "utf-16be.xml",
            "utf-16le-autodetect.xml",
            "utf-16be-bom.xml",
            "utf-16le-bom.xml",
        ] {
            let decoded = feedparser(file);
            assert!(decoded.encoding.starts_with("UTF-16"), "{file}");
            assert!(decoded.text.starts_with("<?xml"), "{file}");
            assert!(!decoded.text.contains('\0'), "{file}");
        }
    }

    #[test]
    fn bogus_label_falls_through_to_the_next_rule() {
        let mut page = b"<meta charset=\"x-no-such-charset\"><meta charset=\"gbk\">".to_vec();
        page.extend(gbk(CHINESE));
        let decoded = decode(&page, Some("text/html; charset=bogus"));
        assert!(decoded.text.ends_with(CHINESE));
    }

    #[test]
    fn undeclared_gbk_is_detected() {
        let text = "云原生社区成立于二零二零年，社区成员来自各地的开发者和企业。欢迎加入我们，一起推动云原生技术在国内的发展。";
        let decoded = decode(&gbk(text), None);
        assert_eq!(decoded.text, text);
    }

    #[test]
    fn feedparser_encoding_corpus_never_panics() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpora/feedparser/tests/encoding");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut count = 0;
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            let decoded = decode(&bytes, None);
            assert!(!decoded.encoding.is_empty());
            count += 1;
        }
        assert!(count > 50, "only {count} files in {}", dir.display());
    }

    #[test]
    fn xml_encoding_declaration_is_rewritten() {
        let text = "<?xml version=\"1.0\" encoding=\"gb2312\"?>\n<rss/>";
        assert_eq!(
            strip_xml_encoding_decl(text),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss/>"
        );
        let single = "\u{feff}<?xml version='1.0' encoding='GBK' standalone='yes'?><a/>";
        assert_eq!(
            strip_xml_encoding_decl(single),
            "\u{feff}<?xml version='1.0' encoding='utf-8' standalone='yes'?><a/>"
        );
        for unchanged in [
            "<?xml version=\"1.0\"?><a/>",
            "<rss encoding=\"gbk\"/>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<?xml encoding=\"gbk\"",
        ] {
            assert!(matches!(
                strip_xml_encoding_decl(unchanged),
                Cow::Borrowed(_)
            ));
        }
    }
}
