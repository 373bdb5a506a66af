//! Web pages with no feed (`kind = "page"`): a list page read with CSS
//! selectors configured per source. Layouts change without notice, so a
//! page whose selectors find nothing is an error the operator sees, never
//! an empty success.

use crate::config::Selector;
use crate::model::RawEntry;
use crate::process::dates;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use scraper::{ElementRef, Html};
use url::Url;

/// The selectors and rules of one page source.
#[derive(Debug, Clone)]
pub struct PageSpec<'a> {
    pub item: &'a Selector,
    pub link: &'a Selector,
    pub title: Option<&'a Selector>,
    pub date: Option<&'a Selector>,
    pub summary: Option<&'a Selector>,
    /// chrono `strftime` format of the date text; other forms are still
    /// tried when it does not fit.
    pub date_format: Option<&'a str>,
    pub timezone: Tz,
}

/// What a page yielded.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ParsedPage {
    pub entries: Vec<RawEntry>,
    /// Items left out, each with the reason.
    pub skipped: Vec<String>,
}

/// Why a page gave nothing: its layout no longer fits the selectors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("0 items, selector \"{0}\" matched nothing")]
    NoItems(String),
    #[error("0 items, {items} elements matched \"{item}\" but link selector \"{link}\" found no link in any")]
    NoLinks {
        items: usize,
        item: String,
        link: String,
    },
    #[error("selector \"{0}\" is not valid CSS")]
    BadSelector(String),
}

/// Read the entries of a decoded list page fetched from `page_url`.
pub fn parse(html: &str, page_url: &Url, spec: &PageSpec<'_>) -> Result<ParsedPage, PageError> {
    let document = Html::parse_document(html);
    let base = base_url(&document, page_url);
    let item_css = compile(&spec.item.css)?;
    let items: Vec<ElementRef<'_>> = match &item_css {
        Some(css) => document.select(css).collect(),
        None => vec![document.root_element()],
    };
    if items.is_empty() {
        return Err(PageError::NoItems(spec.item.to_string()));
    }
    let fields = Fields {
        link: compile(&spec.link.css)?,
        title: spec.title.map(|s| compile(&s.css)).transpose()?,
        date: spec.date.map(|s| compile(&s.css)).transpose()?,
        summary: spec.summary.map(|s| compile(&s.css)).transpose()?,
    };
    let mut parsed = ParsedPage::default();
    for (index, item) in items.iter().enumerate() {
        match read_item(*item, &fields, spec, &base) {
            Ok(entry) => parsed.entries.push(entry),
            Err(reason) => parsed.skipped.push(format!("item {}: {reason}", index + 1)),
        }
    }
    if parsed.entries.is_empty() {
        return Err(PageError::NoLinks {
            items: items.len(),
            item: spec.item.to_string(),
            link: spec.link.to_string(),
        });
    }
    Ok(parsed)
}

/// Compiled CSS of the per-item selectors; `None` is the item itself.
struct Fields {
    link: Option<scraper::Selector>,
    title: Option<Option<scraper::Selector>>,
    date: Option<Option<scraper::Selector>>,
    summary: Option<Option<scraper::Selector>>,
}

/// An empty selector means "the element itself".
fn compile(css: &str) -> Result<Option<scraper::Selector>, PageError> {
    if css.trim().is_empty() {
        return Ok(None);
    }
    scraper::Selector::parse(css)
        .map(Some)
        .map_err(|_| PageError::BadSelector(css.to_string()))
}

/// `<base href>` resolved against the page URL, else the page URL.
fn base_url(document: &Html, page_url: &Url) -> Url {
    scraper::Selector::parse("base[href]")
        .ok()
        .and_then(|css| {
            let href = document.select(&css).next()?.value().attr("href")?;
            page_url.join(href.trim()).ok()
        })
        .unwrap_or_else(|| page_url.clone())
}

fn read_item(
    item: ElementRef<'_>,
    fields: &Fields,
    spec: &PageSpec<'_>,
    base: &Url,
) -> Result<RawEntry, String> {
    let link_element = pick(item, fields.link.as_ref()).ok_or("no element for the link")?;
    let href = link_href(link_element, spec.link.attr.as_deref()).ok_or("no link")?;
    let link = resolve(base, &href).ok_or_else(|| format!("not a web link: {href:?}"))?;
    let title = match (&fields.title, spec.title) {
        (Some(css), Some(selector)) => {
            value(item, css.as_ref(), selector.attr.as_deref()).filter(|t| !t.is_empty())
        }
        _ => None,
    }
    .or_else(|| Some(text_of(link_element)).filter(|t| !t.is_empty()));
    let published = match (&fields.date, spec.date) {
        (Some(css), Some(selector)) => value(item, css.as_ref(), selector.attr.as_deref())
            .and_then(|text| parse_page_date(&text, spec.date_format, spec.timezone)),
        _ => None,
    };
    let summary = match (&fields.summary, spec.summary) {
        (Some(css), Some(selector)) => {
            value(item, css.as_ref(), selector.attr.as_deref()).filter(|t| !t.is_empty())
        }
        _ => None,
    };
    Ok(RawEntry {
        link: Some(link),
        title,
        summary,
        published,
        ..RawEntry::default()
    })
}

/// The first match of `css` inside `item`, or `item` itself when `css` is `None`.
fn pick<'a>(item: ElementRef<'a>, css: Option<&scraper::Selector>) -> Option<ElementRef<'a>> {
    match css {
        Some(css) => item.select(css).next(),
        None => Some(item),
    }
}

/// The link of an element: the named attribute, else `href`; a matched
/// element without one (a heading around the anchor) yields the first
/// anchor inside it.
fn link_href(element: ElementRef<'_>, attr: Option<&str>) -> Option<String> {
    let attr = attr.unwrap_or("href");
    if let Some(value) = element.value().attr(attr) {
        return Some(value.trim().to_string()).filter(|v| !v.is_empty());
    }
    let anchor = scraper::Selector::parse("a[href]").ok()?;
    let inner = element.select(&anchor).next()?;
    inner
        .value()
        .attr("href")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// An absolute http(s) link, or `None` for `javascript:`, `mailto:`, `#top`...
fn resolve(base: &Url, href: &str) -> Option<String> {
    if href.starts_with('#') {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// Text or attribute value of the selected element, whitespace collapsed.
fn value(
    item: ElementRef<'_>,
    css: Option<&scraper::Selector>,
    attr: Option<&str>,
) -> Option<String> {
    let element = pick(item, css)?;
    match attr {
        Some(attr) => element.value().attr(attr).map(collapse),
        None => Some(text_of(element)),
    }
}

fn text_of(element: ElementRef<'_>) -> String {
    collapse(&element.text().collect::<String>())
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A date by the source's own format (with or without an offset, or a bare
/// day at midnight), else by the general rules.
pub fn parse_page_date(text: &str, format: Option<&str>, timezone: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(format) = format {
        if let Ok(date) = DateTime::parse_from_str(text, format) {
            return Some(date.with_timezone(&Utc));
        }
        let local = NaiveDateTime::parse_from_str(text, format)
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(text, format)
                    .ok()
                    .and_then(|day| day.and_hms_opt(0, 0, 0))
            });
        if let Some(local) = local {
            // An ambiguous local time (a DST fold) takes the earlier instant;
            // a skipped one falls through to the general rules.
            if let Some(date) = timezone.from_local_datetime(&local).earliest() {
                return Some(date.with_timezone(&Utc));
            }
        }
    }
    dates::parse_date(text, timezone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector(text: &str) -> Selector {
        Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    const NEWS: &str = r#"<html><head><base href="/news/"></head><body>
        <ul class="news">
          <li><a href="2024/kubecon.html">KubeCon 中国 2024 回顾</a><span class="d">2024/08/23</span></li>
          <li><a href="javascript:void(0)">分享</a></li>
          <li><h3><a href="https://other.example/x">外链文章</a></h3><span class="d">2024年8月1日</span></li>
        </ul></body></html>"#;

    #[test]
    fn reads_items_resolving_links_against_base_href() {
        let (item, link, date) = (selector("ul.news li"), selector("a"), selector("span.d"));
        let spec = PageSpec {
            item: &item,
            link: &link,
            title: None,
            date: Some(&date),
            summary: None,
            date_format: Some("%Y/%m/%d"),
            timezone: chrono_tz::Asia::Shanghai,
        };
        let url = Url::parse("https://community.example/index.html").unwrap();
        let parsed = parse(NEWS, &url, &spec).unwrap();
        assert_eq!(parsed.entries.len(), 2, "{parsed:?}");
        let first = &parsed.entries[0];
        assert_eq!(
            first.link.as_deref(),
            Some("https://community.example/news/2024/kubecon.html")
        );
        assert_eq!(first.title.as_deref(), Some("KubeCon 中国 2024 回顾"));
        assert_eq!(
            first.published.map(|d| d.to_rfc3339()),
            Some("2024-08-22T16:00:00+00:00".to_string())
        );
        // The format does not fit the second date; the general rules read it.
        assert_eq!(
            parsed.entries[1].published.map(|d| d.to_rfc3339()),
            Some("2024-07-31T16:00:00+00:00".to_string())
        );
        assert_eq!(parsed.skipped.len(), 1);
    }

    /// `NEWS` read from the site root with only an item and a link selector.
    fn parse_news_with(item: &str, link: &str) -> Result<ParsedPage, PageError> {
        let (item, link) = (selector(item), selector(link));
        let spec = PageSpec {
            item: &item,
            link: &link,
            title: None,
            date: None,
            summary: None,
            date_format: None,
            timezone: chrono_tz::UTC,
        };
        let url = Url::parse("https://community.example/").unwrap();
        parse(NEWS, &url, &spec)
    }

    #[test]
    fn a_selector_matching_nothing_is_an_error_naming_it() {
        let error = parse_news_with("ol.posts li", "a").unwrap_err();
        assert_eq!(
            error.to_string(),
            "0 items, selector \"ol.posts li\" matched nothing"
        );
    }

    #[test]
    fn the_item_itself_can_be_the_link() {
        let parsed = parse_news_with("ul.news a", "@href").unwrap();
        assert_eq!(parsed.entries.len(), 2);
        assert_eq!(parsed.entries[1].title.as_deref(), Some("外链文章"));
    }
}
