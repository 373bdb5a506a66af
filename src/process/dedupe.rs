//! Near-duplicate detection.
//!
//! The same story is reposted under other URLs (CSDN copies of WeChat
//! articles, cross-posts between blogs), often with a re-punctuated or
//! re-worded title and a different wrapper. Exact URL identity cannot see
//! that, so each item gets a 64-bit SimHash of its text, and a `NearIndex`
//! finds the first stored item whose fingerprint is within a few bits.
//!
//! Features are chosen to survive reposting: punctuation, whitespace, case
//! and full-width forms are ignored; Chinese/Japanese/Korean text gives
//! shingles of four characters (there are no spaces to find words by, and
//! most Chinese words have two characters, so four is about two words),
//! other text gives lower-cased word bigrams; each distinct shingle counts
//! once, and the body weighs more than the title.
//! Shingles rather than single words keep two different stories written
//! from the same vocabulary (or the same template) apart.
//!
//! Fingerprints are stored, so they must not change between runs or
//! versions: feature hashes use xxh3 (a fixed algorithm), never `std`'s
//! randomly seeded hasher. `FINGERPRINT_VERSION` changes whenever the
//! features do, so a store can recompute old fingerprints.

use std::collections::HashMap;

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

/// Changes whenever `fingerprint` would give other values for the same text.
pub const FINGERPRINT_VERSION: u32 = 1;

/// Two fingerprints at most this many bits apart are the same story.
///
/// For SimHash the distance of two texts is about 64·θ/π, θ the angle
/// between their shingle sets seen as vectors, so it grows with the share
/// of text one copy has and the other lacks. Measured on seed 004 (a
/// 2,500-character Chinese article) with foreign text added: 1% extra moves
/// the fingerprint 0–5 bits (median 3), 5% extra 2–8 (median 4–5), 10%
/// extra 4–9 (median 6); 70 real, different long articles (readability
/// test pages) are all 16 bits or more apart, and two different feed-farm
/// stories at least 10 bits among 20,000. Manku et al.'s 3 bits, tuned
/// for crawled web pages, would miss a quarter to a half of the reposts
/// that add a line or two; 6 bits catches reposts with a few percent of
/// wrapper and still needs about 90% shared text to merge. Random, unrelated
/// fingerprints come within 6 bits with probability 4.5e-12 per pair.
pub const THRESHOLD: u32 = 6;

/// Texts with fewer shingles than this are fingerprinted by exact content.
///
/// A SimHash of a few shingles is noise: "Kubernetes 1.30 released" and
/// "Kubernetes 1.31 released" share one shingle of three, and two such
/// fingerprints land within the threshold far more often than chance
/// (40 shingles is about 40 words or 45 Chinese characters). Below this size the fingerprint is instead a plain hash of
/// the normalised title and text, so such items match only when their
/// words are equal (punctuation, case and spacing still ignored); a plain
/// hash is effectively random, so it lands within `THRESHOLD` bits of an
/// unrelated fingerprint with probability about 4.5e-12 per pair.
pub const MIN_FEATURES: usize = 40;

/// Weight of a body shingle relative to a title shingle (1): the body is
/// what a repost keeps; the title is what it rewords.
const BODY_WEIGHT: i64 = 3;

/// Seed that keeps exact-content hashes apart from shingle hashes.
const EXACT_SEED: u64 = 0x7961_6f77_656e_0001;

/// Separates tokens inside a shingle so "ab"+"c" and "a"+"bc" differ.
const TOKEN_SEPARATOR: u8 = 0x1f;

/// Number of bits in which two fingerprints differ.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// SimHash fingerprint of a story's title and text (plain text, not HTML).
///
/// Long enough texts get a SimHash of their shingles, so near-identical
/// texts get fingerprints a few bits apart; texts with fewer than
/// `MIN_FEATURES` shingles get an exact-content hash (see there). Items
/// with no letters or digits at all (title and text) share one
/// fingerprint; callers should not dedupe those.
pub fn fingerprint(title: &str, text: &str) -> u64 {
    let title_tokens = Tokens::of(title);
    let body_tokens = Tokens::of(text);
    let title_shingles = title_tokens.shingle_hashes();
    let body_shingles = body_tokens.shingle_hashes();
    if title_shingles.len() + body_shingles.len() < MIN_FEATURES {
        return exact_hash(&title_tokens, &body_tokens);
    }
    simhash(&title_shingles, &body_shingles)
}

/// The tokens of a text: runs of letters and digits (lower-cased) and
/// single CJK characters; everything else only separates tokens, so
/// punctuation and spacing never change the result.
///
/// Tokens are kept in one buffer, each followed by `TOKEN_SEPARATOR`, so a
/// shingle is one contiguous slice: this runs on every new item, and a
/// string per token cost more than the hashing.
struct Tokens {
    buffer: Vec<u8>,
    /// Per token: where it ends in `buffer` (after its separator), and
    /// whether it is a CJK character.
    ends: Vec<(usize, bool)>,
}

impl Tokens {
    fn of(text: &str) -> Tokens {
        let mut tokens = Tokens {
            buffer: Vec::with_capacity(text.len() + text.len() / 2),
            ends: Vec::with_capacity(text.len() / 2),
        };
        let mut in_word = false;
        let mut utf8 = [0u8; 4];
        for c in text.chars().map(narrow) {
            if is_cjk(c) {
                tokens.end_word(&mut in_word);
                tokens
                    .buffer
                    .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                tokens.push_end(true);
            } else if c.is_ascii_alphanumeric() {
                tokens.buffer.push(c.to_ascii_lowercase() as u8);
                in_word = true;
            } else if c.is_alphanumeric() {
                for lower in c.to_lowercase() {
                    tokens
                        .buffer
                        .extend_from_slice(lower.encode_utf8(&mut utf8).as_bytes());
                }
                in_word = true;
            } else {
                tokens.end_word(&mut in_word);
            }
        }
        tokens.end_word(&mut in_word);
        tokens
    }

    fn end_word(&mut self, in_word: &mut bool) {
        if std::mem::take(in_word) {
            self.push_end(false);
        }
    }

    fn push_end(&mut self, cjk: bool) {
        self.buffer.push(TOKEN_SEPARATOR);
        self.ends.push((self.buffer.len(), cjk));
    }

    /// Where token `index` starts in `buffer`.
    fn start(&self, index: usize) -> usize {
        index
            .checked_sub(1)
            .and_then(|previous| self.ends.get(previous))
            .map_or(0, |&(end, _)| end)
    }

    /// Hashes of the distinct shingles: four tokens from a CJK character,
    /// two from a word; so both are about two words long. Shorter CJK
    /// shingles are mostly single common words ("云原生", "开发者") shared by
    /// every story on a topic: on the feed farm, trigrams left two different
    /// stories 8 bits apart, four-character shingles 10.
    fn shingle_hashes(&self) -> Vec<u64> {
        let mut hashes = Vec::with_capacity(self.ends.len());
        for (index, &(_, cjk)) in self.ends.iter().enumerate() {
            let width = if cjk { 4 } else { 2 };
            let Some(&(end, _)) = self.ends.get(index + width - 1) else {
                break;
            };
            let start = self.start(index);
            hashes.push(xxh3_64(&self.buffer[start..end]));
        }
        // Each distinct shingle counts once: a repeated line of boilerplate
        // must not outvote the story.
        hashes.sort_unstable();
        hashes.dedup();
        hashes
    }
}

/// Full-width ASCII (`Ａ`, `１`, `：`) as its ordinary form, as Chinese
/// text mixes both.
fn narrow(c: char) -> char {
    match u32::from(c) {
        code @ 0xFF01..=0xFF5E => char::from_u32(code - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// Han ideographs, kana and Hangul: scripts written without spaces.
fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x3040..=0x30FF       // Hiragana, Katakana
        | 0x3400..=0x4DBF     // CJK Extension A
        | 0x4E00..=0x9FFF     // CJK Unified Ideographs
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK Compatibility Ideographs
        | 0x20000..=0x3134F // CJK Extensions B-G
    )
}

/// Plain hash of the normalised tokens of title and body.
fn exact_hash(title: &Tokens, body: &Tokens) -> u64 {
    let mut hasher = Xxh3::with_seed(EXACT_SEED);
    hasher.update(&title.buffer);
    // Marks where the title ends, so words cannot move between the two.
    hasher.update(&[0x1e]);
    hasher.update(&body.buffer);
    hasher.digest()
}

/// Charikar's SimHash: each bit is the sign of the weighted vote of the
/// features' hashes on that bit (title shingles weigh 1, body shingles
/// `BODY_WEIGHT`).
fn simhash(title: &[u64], body: &[u64]) -> u64 {
    let (title_ones, body_ones) = (bit_counts(title), bit_counts(body));
    let vote = |ones: u32, features: usize| 2 * i64::from(ones) - features as i64;
    (0..64)
        .filter(|&bit| {
            vote(title_ones[bit], title.len()) + BODY_WEIGHT * vote(body_ones[bit], body.len()) > 0
        })
        .fold(0, |fingerprint, bit| fingerprint | 1 << bit)
}

/// How many of `hashes` have each bit set. Counting (rather than adding or
/// subtracting a weight per bit) has no branch on the bit, so the compiler
/// turns the inner loop into vector adds: this runs for every shingle of
/// every new item, and the branchy vote was a tenth of a cold cycle.
fn bit_counts(hashes: &[u64]) -> [u32; 64] {
    let mut ones = [0u32; 64];
    for hash in hashes {
        for (bit, count) in ones.iter_mut().enumerate() {
            *count += (hash >> bit & 1) as u32;
        }
    }
    ones
}

/// Number of blocks a fingerprint is split into for lookup: with
/// `THRESHOLD + 1` blocks, two fingerprints at most `THRESHOLD` bits apart
/// agree on at least one whole block (pigeonhole).
const BLOCKS: usize = THRESHOLD as usize + 1;
// Every block must fit the u16 map key.
const _: () = assert!(64 / BLOCKS < 16);

/// Block `index` of a fingerprint: bits `64·index/BLOCKS ..
/// 64·(index+1)/BLOCKS` (9 or 10 bits for 7 blocks).
fn block(fingerprint: u64, index: usize) -> u16 {
    let start = index * 64 / BLOCKS;
    let width = (index + 1) * 64 / BLOCKS - start;
    // width <= 16 (asserted above), so the masked value fits a u16.
    ((fingerprint >> start) & ((1 << width) - 1)) as u16
}

/// An index of fingerprints that finds the first stored story near a new one.
///
/// Lookup is the banded scheme of Manku, Jain and Das Sarma (2007): one
/// map per block (7 blocks of 9–10 bits) from block value to entries, so
/// a query only compares against entries that share a block with it:
/// about 7·n/512 candidates for n spread fingerprints instead of n
/// (1,400 cheap XOR-and-popcount checks at 100,000 entries).
#[derive(Debug, Default)]
pub struct NearIndex {
    /// Fingerprints and ids in insertion order; the position is the entry.
    entries: Vec<(u64, String)>,
    /// Per block: block value → positions of the entries that have it.
    blocks: [HashMap<u16, Vec<usize>>; BLOCKS],
}

impl NearIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember `id` under `fingerprint`.
    pub fn insert(&mut self, fingerprint: u64, id: String) {
        let position = self.entries.len();
        self.entries.push((fingerprint, id));
        for (index, map) in self.blocks.iter_mut().enumerate() {
            map.entry(block(fingerprint, index))
                .or_default()
                .push(position);
        }
    }

    /// The id of the first inserted story that is a near duplicate of
    /// `fingerprint` (at most `THRESHOLD` bits apart).
    pub fn find(&self, fingerprint: u64) -> Option<&str> {
        let first = self
            .sharing_a_block(fingerprint)
            // Positions are ascending: the first close one in a block is
            // that block's earliest match.
            .filter_map(|positions| {
                positions
                    .iter()
                    .copied()
                    .find(|&position| self.is_near(position, fingerprint))
            })
            .min()?;
        self.entries.get(first).map(|(_, id)| id.as_str())
    }

    /// The ids of every stored story near `fingerprint`, first inserted
    /// first. A caller that finds the first one gone (an index entry a
    /// crash left behind) takes the next.
    pub fn matches(&self, fingerprint: u64) -> Vec<&str> {
        let mut positions: Vec<usize> = self
            .sharing_a_block(fingerprint)
            .flatten()
            .copied()
            .filter(|&position| self.is_near(position, fingerprint))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .filter_map(|position| self.entries.get(position).map(|(_, id)| id.as_str()))
            .collect()
    }

    /// Per block, the positions of the entries that share it with
    /// `fingerprint`: the only candidates for a near duplicate.
    fn sharing_a_block(&self, fingerprint: u64) -> impl Iterator<Item = &Vec<usize>> + '_ {
        self.blocks
            .iter()
            .enumerate()
            .filter_map(move |(index, map)| map.get(&block(fingerprint, index)))
    }

    fn is_near(&self, position: usize, fingerprint: u64) -> bool {
        self.entries
            .get(position)
            .is_some_and(|(stored, _)| hamming(*stored, fingerprint) <= THRESHOLD)
    }

    /// Number of stored fingerprints.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::shared;

    /// SimHash as defined: per bit, add the feature's weight when its hash
    /// has the bit, subtract it otherwise; the bit is set when the sum is
    /// positive.
    fn simhash_by_definition(title: &[u64], body: &[u64]) -> u64 {
        let mut votes = [0i64; 64];
        let features = title
            .iter()
            .map(|&h| (h, 1))
            .chain(body.iter().map(|&h| (h, BODY_WEIGHT)));
        for (hash, weight) in features {
            for (bit, vote) in votes.iter_mut().enumerate() {
                *vote += if hash >> bit & 1 == 1 {
                    weight
                } else {
                    -weight
                };
            }
        }
        (0..64)
            .filter(|&bit| votes[bit] > 0)
            .fold(0, |f, bit| f | 1 << bit)
    }

    #[test]
    fn counted_simhash_equals_the_weighted_vote() {
        // Hash streams of many lengths, including ties (even counts) and
        // hashes biased towards set or clear bits.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            xxh3_64(&state.to_le_bytes())
        };
        for case in 0..400usize {
            let title: Vec<u64> = (0..case % 13).map(|_| next()).collect();
            let body: Vec<u64> = (0..(case * 7) % 301)
                .map(|i| match case % 3 {
                    0 => next(),
                    1 => next() | next(),
                    _ => next() & next() & (i as u64 | next()),
                })
                .collect();
            assert_eq!(
                simhash(&title, &body),
                simhash_by_definition(&title, &body),
                "case {case}: {} title and {} body hashes",
                title.len(),
                body.len()
            );
        }
    }

    /// Crude HTML to text for test material: drop tags, scripts and styles.
    fn strip_html(html: &str) -> String {
        let scripts =
            regex::Regex::new(r"(?is)<(script|style)\b.*?</(script|style)>").expect("valid regex");
        let tags = regex::Regex::new(r"(?s)<[^>]*>").expect("valid regex");
        tags.replace_all(&scripts.replace_all(html, " "), " ")
            .replace("&nbsp;", " ")
            .replace("&amp;", "&")
    }

    /// Seed 004 (a CSDN repost of a WeChat article): the body after the
    /// front matter, as text.
    fn seed_004_text() -> String {
        let seed = shared("seeds/004_be1821cd074cc226.txt");
        let body = seed
            .splitn(3, "---\n")
            .nth(2)
            .expect("seed 004 has front matter");
        strip_html(body)
    }

    const SEED_004_TITLE: &str = "云原生技术前沿落地实践分论坛圆满举办";

    fn readability_text(page: &str) -> String {
        strip_html(&shared(&format!(
            "corpora/readability-testpages/test/test-pages/{page}/expected.html"
        )))
    }

    fn matches(a: u64, b: u64) -> bool {
        let mut index = NearIndex::new();
        index.insert(a, "a".into());
        index.find(b) == Some("a")
    }

    #[test]
    fn same_body_with_repunctuated_title_matches() {
        let body = seed_004_text();
        let original = fingerprint(SEED_004_TITLE, &body);
        for title in [
            "云原生技术前沿落地实践：分论坛圆满举办",
            "“云原生技术前沿落地实践分论坛圆满举办”！",
            "云原生技术前沿落地实践, 分论坛圆满举办…",
        ] {
            assert!(matches(original, fingerprint(title, &body)), "{title}");
        }
        let body = readability_text("nytimes-1");
        let original = fingerprint("United States to Lift Sudan Sanctions", &body);
        let retitled = fingerprint("United States to lift Sudan sanctions!", &body);
        assert!(matches(original, retitled));
    }

    #[test]
    fn seed_004_reposted_under_another_title_and_wrapper_matches() {
        let body = seed_004_text();
        let wrapped = format!(
            "本文转载自微信公众号「开放原子云社区」，点击阅读原文。\n{body}\n\
             版权声明：本文为博主原创文章，遵循 CC 4.0 BY-SA 版权协议，\
             转载请附上原文出处链接和本声明。"
        );
        let repost = fingerprint(
            "【转载】云原生技术前沿落地实践分论坛圆满举办_CSDN博客",
            &wrapped,
        );
        let original = fingerprint(SEED_004_TITLE, &body);
        println!("seed 004 repost: {} bits", hamming(original, repost));
        assert!(
            hamming(original, repost) <= THRESHOLD,
            "{} bits apart",
            hamming(original, repost)
        );
    }

    #[test]
    fn the_same_article_captured_twice_matches() {
        // Two captures of one Lifehacker article (with and without comments
        // loaded); their extracted texts agree.
        let first = readability_text("lifehacker-post-comment-load");
        let second = readability_text("lifehacker-working");
        let title = "How to Program Your Mind to Stop Buying Crap You Don’t Need";
        assert!(matches(
            fingerprint(title, &first),
            fingerprint(title, &second)
        ));
    }

    #[test]
    fn different_real_articles_are_far_apart() {
        let pages = ["nytimes-1", "nytimes-2", "nytimes-3", "wapo-1", "qq", "gmw"];
        let fingerprints: Vec<u64> = pages
            .iter()
            .map(|page| fingerprint("", &readability_text(page)))
            .collect();
        for (i, a) in fingerprints.iter().enumerate() {
            for (j, b) in fingerprints.iter().enumerate().skip(i + 1) {
                assert!(
                    hamming(*a, *b) > 2 * THRESHOLD,
                    "{} and {}: {} bits",
                    pages[i],
                    pages[j],
                    hamming(*a, *b)
                );
            }
        }
    }

    /// Two release announcements written from one template: same frame,
    /// different version, counts and highlights.
    const RELEASE_A: &str = "We are excited to announce the release of Kubernetes v1.30, \
        the first release of 2024. This release consists of 45 enhancements: 17 of them are \
        graduating to Stable, 18 are entering Beta, and 10 have graduated to Alpha. \
        Highlights of this release: robust volume manager reconstruction after a kubelet \
        restart is now stable; prevent unauthorized volume mode conversion during volume \
        restore; pod scheduling readiness graduates to stable; minimum domains in pod \
        topology spread constraints. Kubernetes v1.30 is available for download on GitHub. \
        To get started, check out the interactive tutorials or run a local cluster with \
        minikube. Thank you to the release team led by Kat Cosgrove and to every contributor.";
    const RELEASE_B: &str = "We are excited to announce the release of Kubernetes v1.31, \
        the second release of 2024. This release consists of 45 enhancements: 11 of them are \
        graduating to Stable, 22 are entering Beta, and 12 have graduated to Alpha. \
        Highlights of this release: AppArmor support is now stable; improved ingress \
        connectivity reliability for kube-proxy; a last phase transition time for persistent \
        volumes; the nftables backend for kube-proxy enters beta. Kubernetes v1.31 is \
        available for download on GitHub. To get started, check out the interactive \
        tutorials or run a local cluster with minikube. Thank you to the release team led \
        by Angelos Kolaitis and to every contributor.";
    const WEEKLY_A: &str = "开放原子云社区周报第12期。本周要闻：KubeEdge 发布 1.16 版本，\
        新增边缘节点离线自治能力和设备管理插件；Volcano 调度器支持大模型训练任务的拓扑感知调度，\
        训练效率提升百分之三十；Karmada 社区举办首次线下开发者见面会，三十余位贡献者参加。\
        欢迎关注开放原子云社区，投稿请发邮件至社区邮箱，我们下周再见。";
    const WEEKLY_B: &str =
        "开放原子云社区周报第13期。本周要闻：Kuasar 沙箱容器运行时进入孵化阶段，\
        支持虚拟机与 WebAssembly 两种隔离方式；OpenNJet 网关发布新版本，动态配置接口时延下降一半；\
        华为云与重庆大学联合发布云原生人才培养计划，首批开设四门课程。\
        欢迎关注开放原子云社区，投稿请发邮件至社区邮箱，我们下周再见。";

    #[test]
    fn different_stories_from_one_template_do_not_match() {
        let a = fingerprint("Kubernetes v1.30: Uwubernetes", RELEASE_A);
        let b = fingerprint("Kubernetes v1.31: Elli", RELEASE_B);
        println!("release template: {} bits", hamming(a, b));
        assert!(hamming(a, b) > THRESHOLD, "{} bits", hamming(a, b));
        assert!(!matches(a, b));
        let a = fingerprint("开放原子云社区周报 第12期", WEEKLY_A);
        let b = fingerprint("开放原子云社区周报 第13期", WEEKLY_B);
        println!("weekly template: {} bits", hamming(a, b));
        assert!(hamming(a, b) > THRESHOLD, "{} bits", hamming(a, b));
        assert!(!matches(a, b));
    }

    #[test]
    fn short_texts_match_only_when_their_words_are_equal() {
        let short = |title: &str| fingerprint(title, "");
        assert!(!matches(
            short("Kubernetes v1.30 released"),
            short("Kubernetes v1.31 released")
        ));
        assert!(!matches(
            short("KubeCon China 2024 议程公布"),
            short("KubeCon China 2025 议程公布")
        ));
        assert_eq!(
            short("Kubernetes v1.30 released!"),
            short("kubernetes  v1.30 — Released")
        );
        assert_eq!(
            short("ＫｕｂｅＣｏｎ　China 2024：议程公布"),
            short("KubeCon China 2024 议程公布")
        );
        // Title and text are kept apart: words cannot move between them.
        assert_ne!(fingerprint("a b", "c"), fingerprint("a", "b c"));
    }

    #[test]
    fn fingerprint_is_stable_across_runs_and_versions() {
        // Fingerprints are stored: if this value changes, bump
        // FINGERPRINT_VERSION so stores recompute theirs.
        assert_eq!(FINGERPRINT_VERSION, 1);
        assert_eq!(
            fingerprint("Kubernetes v1.30", RELEASE_A),
            0x75ba_986d_a101_0498
        );
    }

    #[test]
    fn any_input_gets_a_fingerprint() {
        for (title, text) in [
            ("", ""),
            ("。，！", "\u{0}\u{7}\u{FEFF}\u{200B}"),
            ("🎉🎉", "🎉 🎉 🎉"),
            ("x", &"云".repeat(100_000)),
            ("𠀀𠀁𠀂𠀃", "الأخبار المهمة Новости 뉴스 ニュース"),
        ] {
            let _ = fingerprint(title, text);
        }
    }

    #[test]
    fn hamming_counts_differing_bits() {
        assert_eq!(hamming(0, 0), 0);
        assert_eq!(hamming(0, u64::MAX), 64);
        assert_eq!(hamming(0b1011, 0b0110), 3);
    }

    /// xorshift64*: a deterministic stream of fingerprints for index tests.
    fn random_fingerprints(seed: u64) -> impl Iterator<Item = u64> {
        let mut state = seed;
        std::iter::repeat_with(move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        })
    }

    /// `fingerprint` with `bits` of its bits (spread out) flipped.
    fn flip(fingerprint: u64, bits: u32, salt: u64) -> u64 {
        let mut out = fingerprint;
        let mut flipped = 0;
        let mut position = salt % 64;
        while flipped < bits {
            out ^= 1 << position;
            flipped += 1;
            position = (position + 23) % 64;
        }
        out
    }

    #[test]
    fn index_returns_the_first_inserted_near_story() {
        let mut index = NearIndex::new();
        assert!(index.is_empty());
        assert_eq!(index.find(42), None);
        let story = 0x0123_4567_89AB_CDEF;
        index.insert(flip(story, 9, 0), "far".into());
        index.insert(flip(story, 5, 3), "first".into());
        index.insert(story, "exact".into());
        index.insert(flip(story, 1, 7), "later".into());
        assert_eq!(index.len(), 4);
        assert_eq!(index.find(story), Some("first"));
        assert_eq!(index.find(flip(story, 9, 0)), Some("far"));
        assert_eq!(index.find(!story), None);
        // Every near story, first inserted first; "far" is 9 bits away.
        assert_eq!(index.matches(story), ["first", "exact", "later"]);
        assert!(index.matches(!story).is_empty());
    }

    #[test]
    fn index_agrees_with_a_linear_scan_at_100_000_entries() {
        let stored: Vec<u64> = random_fingerprints(7).take(100_000).collect();
        let mut index = NearIndex::new();
        for (position, fp) in stored.iter().enumerate() {
            index.insert(*fp, position.to_string());
        }
        // Queries near stored entries at every distance up to past the
        // threshold, and unrelated ones.
        let near = stored
            .iter()
            .step_by(97)
            .enumerate()
            .map(|(i, fp)| flip(*fp, (i % 10) as u32, i as u64));
        let queries: Vec<u64> = near.chain(random_fingerprints(99).take(500)).collect();
        for query in queries {
            let expected = stored
                .iter()
                .position(|fp| hamming(*fp, query) <= THRESHOLD)
                .map(|position| position.to_string());
            assert_eq!(index.find(query), expected.as_deref(), "{query:#x}");
            let all: Vec<String> = stored
                .iter()
                .enumerate()
                .filter(|(_, fp)| hamming(**fp, query) <= THRESHOLD)
                .map(|(position, _)| position.to_string())
                .collect();
            assert_eq!(index.matches(query), all, "{query:#x}");
        }
    }
}
