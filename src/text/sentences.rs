//! Sentence splitting and the text length measure used for summaries.
//!
//! Summaries are built from whole sentences and must fit a budget counted
//! the way editors count: in Chinese characters, where Latin letters take
//! half the room. Both rules live here so summaries, digests and editors'
//! checks agree.

/// Chinese sentence ends.
const CJK_ENDS: &[char] = &['。', '！', '？', '；'];

/// Latin sentence ends (a sentence end only before whitespace or the end).
const LATIN_ENDS: &[char] = &['.', '!', '?'];

/// Closing quotes and brackets that belong to the sentence they follow.
const CLOSERS: &[char] = &['”', '’', '」', '』', '）', ')', '"', '\'', '】', '》', ']'];

/// Titles before a name, compared exactly ("ms." after a number is a unit).
const TITLES: &[&str] = &["Mr", "Mrs", "Ms", "Dr", "Prof", "Sr", "Jr", "St"];

/// Words that end with a full stop without ending a sentence (compared
/// lowercase, without the stop). Words with inner stops ("e.g", "U.S")
/// and single letters (initials) are recognised without a list.
const ABBREVIATIONS: &[&str] = &[
    "vs", "no", "fig", "al", "inc", "ltd", "co", "corp", "approx", "dept", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "vol", "ver", "eg", "ie", "cf",
];

/// Split plain text into sentences (Chinese `。！？；` and English ends).
/// Line breaks end sentences too. Sentences are trimmed; empty ones dropped.
pub fn split(text: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = if c == '\n' {
            Some(i)
        } else if CJK_ENDS.contains(&c) || LATIN_ENDS.contains(&c) {
            // Take repeated ends ("？！", "...") and closing quotes along.
            let mut end = i + c.len_utf8();
            while let Some(&(j, next)) = chars.peek() {
                if CJK_ENDS.contains(&next) || LATIN_ENDS.contains(&next) || CLOSERS.contains(&next)
                {
                    end = j + next.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let ends = if CJK_ENDS.contains(&c) {
                true
            } else {
                latin_end_at(text, start, i, end)
            };
            ends.then_some(end)
        } else {
            None
        };
        if let Some(end) = end {
            push_trimmed(&mut sentences, &text[start..end]);
            start = end;
        }
    }
    push_trimmed(&mut sentences, &text[start..]);
    sentences
}

/// Whether the Latin end mark at `mark` (its run ending at `end`) ends a
/// sentence: followed by whitespace or the end of text, or by CJK text, and
/// not the stop of an abbreviation, initial, or number.
fn latin_end_at(text: &str, sentence_start: usize, mark: usize, end: usize) -> bool {
    let next = text[end..].chars().next();
    let followed_by_break = match next {
        None => true,
        Some(n) => n.is_whitespace() || is_wide(n),
    };
    if !followed_by_break {
        return false;
    }
    if !text[mark..].starts_with('.') || text[mark..end].starts_with("..") {
        return true;
    }
    let word = text[sentence_start..mark]
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '（')
        .next()
        .unwrap_or("");
    !is_abbreviation(word)
}

fn is_abbreviation(word: &str) -> bool {
    let short_letters = |part: &str| {
        (1..=3).contains(&part.chars().count()) && part.chars().all(char::is_alphabetic)
    };
    let dotted = word.contains('.') && word.split('.').all(short_letters);
    let initial = word.chars().count() == 1 && short_letters(word);
    initial
        || dotted
        || TITLES.contains(&word)
        || ABBREVIATIONS.contains(&word.to_lowercase().as_str())
}

fn push_trimmed<'a>(sentences: &mut Vec<&'a str>, piece: &'a str) {
    let piece = piece.trim();
    if !piece.is_empty() {
        sentences.push(piece);
    }
}

/// Length of text in "Chinese characters": a CJK character counts 1, other
/// characters count 1/2 (rounded up).
pub fn display_len(text: &str) -> usize {
    text.chars().map(half_units).sum::<usize>().div_ceil(2)
}

/// Width of a character in half units: 2 for wide (CJK, fullwidth), else 1.
pub fn half_units(c: char) -> usize {
    if is_wide(c) {
        2
    } else {
        1
    }
}

/// CJK ideographs, kana, hangul, CJK punctuation and fullwidth forms (the
/// East Asian Wide and Fullwidth ranges that occur in text), and emoji.
pub fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE10..=0xFE19
        | 0xFE30..=0xFE6F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_sentences_keep_their_closing_quotes() {
        let text = "大会以“云筑数字新基”为主题。他说：“欢迎加入！”真的吗？是的；当然\n下一行";
        assert_eq!(
            split(text),
            vec![
                "大会以“云筑数字新基”为主题。",
                "他说：“欢迎加入！”",
                "真的吗？",
                "是的；",
                "当然",
                "下一行"
            ]
        );
    }

    #[test]
    fn english_sentences_and_abbreviations() {
        let text = "Kubernetes v1.29 is out. It ships e.g. sidecars, i.e. native ones! \
                    The U.S. team led by Dr. Smith measured 3.14 ms. Really? Yes.";
        assert_eq!(
            split(text),
            vec![
                "Kubernetes v1.29 is out.",
                "It ships e.g. sidecars, i.e. native ones!",
                "The U.S. team led by Dr. Smith measured 3.14 ms.",
                "Really?",
                "Yes."
            ]
        );
    }

    #[test]
    fn mixed_text_and_edge_cases() {
        assert_eq!(
            split("发布了 Istio 1.20.下一步"),
            vec!["发布了 Istio 1.20.", "下一步"]
        );
        assert_eq!(
            split("Wait... what?!\" ok"),
            vec!["Wait...", "what?!\"", "ok"]
        );
        assert_eq!(split(""), Vec::<&str>::new());
        assert_eq!(split(" \n\n 。 "), vec!["。"]);
        assert_eq!(split("no end"), vec!["no end"]);
        assert_eq!(
            split("see www.example.com now"),
            vec!["see www.example.com now"]
        );
    }

    #[test]
    fn display_len_counts_latin_as_half() {
        assert_eq!(display_len("云原生"), 3);
        assert_eq!(display_len("abcd"), 2);
        assert_eq!(display_len("abc"), 2);
        assert_eq!(display_len("云原生 KubeCon"), 7);
        assert_eq!(display_len("（全角）！"), 5);
        assert_eq!(display_len(""), 0);
    }
}
