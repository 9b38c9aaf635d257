//! Character references: decoding entities into mapped text.

use crate::mapped::MappedText;
use std::borrow::Cow;
use std::ops::Range;

/// Appends `src[range]` to `out`, decoding character references one by one
/// so each decoded character maps to exactly its entity's bytes.
pub(super) fn decode_into(src: &str, range: Range<usize>, out: &mut MappedText) {
    let Some(text) = src.get(range.clone()) else {
        return;
    };
    let base = range.start;
    let (mut run, mut i) = (0, 0);
    while let Some(k) = text[i..].find('&') {
        let amp = i + k;
        match decode_entity(&text[amp..]) {
            Some((decoded, len)) => {
                out.push_source(src, base + run..base + amp);
                out.push_decoded(&decoded, base + amp..base + amp + len);
                i = amp + len;
                run = i;
            }
            None => i = amp + 1,
        }
    }
    out.push_source(src, base + run..range.end);
}

/// Decodes the character reference at the start of `s` (which starts with
/// `&`): the replacement and the reference's length in bytes (ASCII only,
/// so the end is a char boundary). `None` leaves it verbatim.
fn decode_entity(s: &str) -> Option<(Cow<'static, str>, usize)> {
    let bytes = s.as_bytes();
    if bytes.get(1) == Some(&b'#') {
        let (radix, digits) = match bytes.get(2) {
            Some(b'x' | b'X') => (16, 3),
            _ => (10, 2),
        };
        let mut i = digits;
        let mut value: u32 = 0;
        while let Some(d) = bytes.get(i).and_then(|&b| char::from(b).to_digit(radix)) {
            value = value.saturating_mul(radix).saturating_add(d);
            i += 1;
        }
        if i == digits {
            return None;
        }
        if bytes.get(i) == Some(&b';') {
            i += 1;
        }
        return Some((Cow::Owned(numeric_char(value).to_string()), i));
    }
    let len = bytes
        .iter()
        .skip(1)
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if len == 0 || bytes.get(len + 1) != Some(&b';') {
        return None;
    }
    let decoded = match named_entity(&s[1..=len]) {
        Some(d) => Cow::Borrowed(d),
        None => match html_escape::decode_html_entities(&s[..len + 2]) {
            Cow::Owned(d) => Cow::Owned(d),
            Cow::Borrowed(_) => return None,
        },
    };
    Some((decoded, len + 2))
}

/// The character a numeric reference stands for, with HTML's fix-ups:
/// NUL, surrogates and out-of-range values become U+FFFD, and 0x80–0x9F are
/// read as Windows-1252 (pages say `&#150;` meaning an en dash).
fn numeric_char(value: u32) -> char {
    const CP1252: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match value {
        0 => '\u{FFFD}',
        0x80..=0x9F => CP1252[(value - 0x80) as usize],
        _ => char::from_u32(value).unwrap_or('\u{FFFD}'),
    }
}

/// The common named entities, without a table lookup. `&nbsp;` becomes a
/// plain space so it collapses like one; soft hyphens and zero-width spaces
/// vanish.
fn named_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" | "AMP" => "&",
        "lt" | "LT" => "<",
        "gt" | "GT" => ">",
        "quot" | "QUOT" => "\"",
        "apos" => "'",
        "nbsp" | "ensp" | "emsp" | "thinsp" => " ",
        "shy" | "zwsp" | "ZeroWidthSpace" => "",
        "copy" | "COPY" => "©",
        "reg" | "REG" => "®",
        "trade" => "™",
        "hellip" => "…",
        "mdash" => "—",
        "ndash" => "–",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "bull" => "•",
        "middot" => "·",
        "times" => "×",
        "divide" => "÷",
        "deg" => "°",
        "euro" => "€",
        "pound" => "£",
        "yen" => "¥",
        "cent" => "¢",
        "sect" => "§",
        "para" => "¶",
        "plusmn" => "±",
        "larr" => "←",
        "rarr" => "→",
        "rArr" => "⇒",
        "le" => "≤",
        "ge" => "≥",
        "ne" => "≠",
        "minus" => "−",
        _ => return None,
    })
}
