//! Delimited text: decoding (UTF-8 or GBK), lines and fields with RFC 4180 quoting.

use std::borrow::Cow;
use std::path::Path;

use crate::Encoding;
use crate::exit::{Exit, Failure, io_error};

/// Decodes bytes in the encoding, dropping a UTF-8 byte-order mark. Text that is already valid
/// is kept in place, not copied.
pub(crate) fn decode(mut bytes: Vec<u8>, encoding: Encoding) -> String {
    match encoding {
        Encoding::Utf8 => {
            if bytes.starts_with(BOM) {
                bytes.drain(..BOM.len());
            }
            match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }
        }
        Encoding::Gbk => {
            // GB18030 is a superset of GBK: every GBK file decodes the same.
            let (text, _, _) = encoding_rs::GB18030.decode(&bytes);
            match text {
                // ASCII only (or UTF-8 after a byte-order mark): the bytes are the text.
                Cow::Borrowed(t) if t.len() == bytes.len() => match String::from_utf8(bytes) {
                    Ok(s) => s,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                },
                t => t.into_owned(),
            }
        }
        // Resolved per file before anything is decoded (`detect`); read as UTF-8 otherwise.
        Encoding::Auto => decode(bytes, Encoding::Utf8),
    }
}

/// The encoding of a file for `--encoding auto`: UTF-8 when it starts with a byte-order mark
/// or its first 64 KiB are valid UTF-8 (a character cut at the end of them counts as valid),
/// GBK otherwise.
///
/// # Errors
/// A usage failure when the file cannot be read.
pub(crate) fn detect(path: &Path) -> Result<Encoding, Failure> {
    use std::io::Read as _;
    let failed = |e: &std::io::Error| io_error(Exit::Usage, path, "read the input file", e);
    let mut head = Vec::with_capacity(1 << 16);
    let file = std::fs::File::open(path).map_err(|e| failed(&e))?;
    file.take(1 << 16).read_to_end(&mut head).map_err(|e| failed(&e))?;
    if head.starts_with(BOM) {
        return Ok(Encoding::Utf8);
    }
    Ok(match std::str::from_utf8(&head) {
        Ok(_) => Encoding::Utf8,
        // Only an incomplete character at the very end: UTF-8 cut by the 64 KiB.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Gbk,
    })
}

/// The delimiter of a header line for `--delimiter auto`: the one of `,`, tab, `|` and `;` it
/// holds most of (`,` when it holds none: a one-column header).
///
/// # Errors
/// The message when two of them are as frequent (the header does not say which).
pub(crate) fn header_delimiter(header: &str) -> Result<char, String> {
    let counts: Vec<(char, usize)> =
        [',', '\t', '|', ';'].iter().map(|&d| (d, header.chars().filter(|&c| c == d).count())).collect();
    let most = counts.iter().map(|c| c.1).max().unwrap_or(0);
    let at_most: Vec<char> = counts.iter().filter(|c| c.1 == most && most > 0).map(|c| c.0).collect();
    match at_most.as_slice() {
        [] => Ok(','),
        [one] => Ok(*one),
        many => {
            let shown: Vec<String> =
                many.iter().map(|&d| if d == '\t' { "tab".to_string() } else { format!("`{d}`") }).collect();
            Err(format!(
                "the header holds as many {} as each other: give the delimiter with --delimiter",
                shown.join(" and ")
            ))
        }
    }
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A line of a text file.
pub(crate) struct Line<'a> {
    /// The 1-based line number.
    pub(crate) number: u64,
    /// The line, without its line ending.
    pub(crate) text: &'a str,
    /// Whether the line may hold bytes that were not valid in the encoding (U+FFFD somewhere
    /// near it): when not, [`undecodable`] need not look.
    pub(crate) lossy: bool,
}

/// Reads a text file and gives each non-blank line to `each`, in order, as [`lines`] would
/// from the whole decoded file. UTF-8 is read a block at a time (the file is never held whole);
/// GBK is decoded whole.
///
/// # Errors
/// A usage failure when the file cannot be read.
pub(crate) fn for_each_line(path: &Path, encoding: Encoding, mut each: impl FnMut(Line<'_>)) -> Result<(), Failure> {
    let failed = |e: &std::io::Error| io_error(Exit::Usage, path, "read the input file", e);
    if encoding == Encoding::Gbk {
        let bytes = std::fs::read(path).map_err(|e| failed(&e))?;
        let text = decode(bytes, encoding);
        let lossy = text.contains('\u{FFFD}');
        for (number, text) in lines(&text) {
            each(Line { number: u64::from(number), text, lossy });
        }
        return Ok(());
    }
    let mut file = std::fs::File::open(path).map_err(|e| failed(&e))?;
    let mut buf: Vec<u8> = vec![0; 1 << 20];
    // Bytes in `buf` (a partial line after each block), the last line number given, and
    // whether the start of the file (a byte-order mark) is still to be looked at.
    let (mut filled, mut number, mut first) = (0usize, 0u64, true);
    loop {
        if filled == buf.len() {
            // A line longer than the buffer.
            buf.resize(buf.len() * 2, 0);
        }
        let n = match std::io::Read::read(&mut file, &mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(failed(&e)),
        };
        filled += n;
        let end = n == 0;
        let mut start = 0;
        if first && (filled >= BOM.len() || end) {
            first = false;
            if buf[..filled].starts_with(BOM) {
                start = BOM.len();
            }
        } else if first {
            continue;
        }
        // The complete lines read so far (everything at the end of the file).
        let upto = if end {
            filled
        } else {
            buf[start..filled].iter().rposition(|&b| b == b'\n').map_or(start, |i| start + i + 1)
        };
        if upto > start {
            utf8_lines(&buf[start..upto], &mut number, &mut each);
        }
        if end {
            return Ok(());
        }
        buf.copy_within(upto..filled, 0);
        filled -= upto;
    }
}

/// The lines of a block of UTF-8 text that ends at a line end or the end of the file. Bytes
/// that are not valid UTF-8 become U+FFFD, as when the whole file is decoded at once (a line
/// feed is never part of a UTF-8 sequence, so no replacement spans two blocks).
fn utf8_lines(block: &[u8], number: &mut u64, each: &mut impl FnMut(Line<'_>)) {
    let text = match std::str::from_utf8(block) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(block),
    };
    let lossy = text.contains('\u{FFFD}');
    for line in text.split_inclusive('\n') {
        *number += 1;
        // As `str::lines`: a line feed ends a line, with the carriage return before it.
        let line = match line.strip_suffix('\n') {
            Some(l) => l.strip_suffix('\r').unwrap_or(l),
            None => line,
        };
        if !line.trim().is_empty() {
            each(Line { number: *number, text: line, lossy });
        }
    }
}

/// The non-blank lines of a text with their 1-based line numbers.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, l)| (i as u32 + 1, l))
}

/// Why a line cannot be split into fields.
pub(crate) fn undecodable(line: &str, encoding: Encoding) -> Option<String> {
    line.contains('\u{FFFD}').then(|| match encoding {
        Encoding::Utf8 | Encoding::Auto => {
            "the line is not valid UTF-8 (for GBK extracts give --encoding gbk, or --encoding auto for each file's own)"
                .to_string()
        }
        Encoding::Gbk => "the line is not valid GBK text".to_string(),
    })
}

/// Splits a line into fields. Fields may be quoted with `"` (a doubled `""` inside is a quote).
/// Unquoted fields are kept as they are (spaces included: the core refuses an id with
/// leading or trailing spaces, and trims the cells where spaces do not matter); spaces around a
/// quoted field are dropped. On an error `out` holds the fields read correctly before the one
/// that cannot be read.
///
/// Fields are borrowed from the line; only a quoted field holding a doubled quote is a copy.
pub(crate) fn split<'a>(line: &'a str, delimiter: char, out: &mut Vec<Cow<'a, str>>) -> Result<(), String> {
    out.clear();
    if !line.contains('"') {
        out.extend(line.split(delimiter).map(Cow::Borrowed));
        return Ok(());
    }
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        if let Some(quoted) = trimmed.strip_prefix('"') {
            let mut doubled = false;
            let mut end = None;
            let bytes = quoted.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        doubled = true;
                        i += 2;
                        continue;
                    }
                    end = Some(i);
                    break;
                }
                i += 1;
            }
            let Some(end) = end else {
                return Err("a quoted field is not closed".to_string());
            };
            let raw = &quoted[..end];
            let value = if doubled { Cow::Owned(raw.replace("\"\"", "\"")) } else { Cow::Borrowed(raw) };
            let after = quoted[end + 1..].trim_start_matches(' ');
            if after.is_empty() {
                out.push(value);
                return Ok(());
            }
            match after.strip_prefix(delimiter) {
                Some(r) => {
                    out.push(value);
                    rest = r;
                }
                None => return Err("unexpected text after a quoted field".to_string()),
            }
        } else {
            match rest.split_once(delimiter) {
                Some((field, r)) => {
                    out.push(Cow::Borrowed(field));
                    rest = r;
                }
                None => {
                    out.push(Cow::Borrowed(rest));
                    return Ok(());
                }
            }
        }
    }
}

/// Splits a line without quotes at an ASCII delimiter into `out`, as [`split`] does; false
/// (and `out` to be cleared) when the line holds a quote or the delimiter is not ASCII.
///
/// The line is scanned eight bytes at a time.
#[inline]
pub(crate) fn split_unquoted<'a>(line: &'a str, delimiter: char, out: &mut Vec<&'a str>) -> bool {
    if !delimiter.is_ascii() {
        return false;
    }
    let d = delimiter as u8;
    let bytes = line.as_bytes();
    let (delimiters, quotes) = (u64::from_ne_bytes([d; 8]), u64::from_ne_bytes([b'"'; 8]));
    let mut start = 0;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        if zero_bytes(word ^ quotes) != 0 {
            return false;
        }
        let mut found = zero_bytes(word ^ delimiters);
        while found != 0 {
            let i = at + (found.trailing_zeros() / 8) as usize;
            out.push(&line[start..i]);
            start = i + 1;
            found &= found - 1;
        }
        at += 8;
    }
    for (k, &b) in chunks.remainder().iter().enumerate() {
        if b == d {
            out.push(&line[start..at + k]);
            start = at + k + 1;
        } else if b == b'"' {
            return false;
        }
    }
    out.push(&line[start..]);
    true
}

/// The high bit of each byte of `word` that is zero, and no other bit.
#[inline]
fn zero_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((word & LOW7) + LOW7) | word | LOW7)
}

/// A text cell for CSV output: a cell starting with `=`, `+`, `-` or `@` (a spreadsheet
/// formula) is neutralised with a leading `'`, and the cell is quoted when it needs it.
///
/// For text only (ids, entity codes and names, messages, original lines): numbers the tool
/// formats itself are written as they are.
pub(crate) fn csv_field(value: &str) -> Cow<'_, str> {
    let formula = value.starts_with(['=', '+', '-', '@']);
    let quote = value.contains([',', '"', '\n', '\r']);
    match (formula, quote) {
        (false, false) => Cow::Borrowed(value),
        (true, false) => Cow::Owned(format!("'{value}")),
        (formula, true) => {
            let mark = if formula { "'" } else { "" };
            Cow::Owned(format!("\"{mark}{}\"", value.replace('"', "\"\"")))
        }
    }
}

/// Reads a file for commands that do not take an encoding (outputs of this tool are UTF-8).
pub(crate) fn read_utf8(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| io_error(Exit::Usage, path, "read", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str, d: char) -> Vec<String> {
        let mut out = Vec::new();
        split(line, d, &mut out).unwrap();
        out.into_iter().map(|c| c.into_owned()).collect()
    }

    #[test]
    fn splits_plain_and_quoted_fields() {
        assert_eq!(fields("a, b ,c", ','), ["a", " b ", "c"]);
        assert_eq!(fields("a, \"b\" ,c", ','), ["a", "b", "c"]);
        assert_eq!(fields("a|b||", '|'), ["a", "b", "", ""]);
        assert_eq!(fields(r#""x,1","say ""hi""",3"#, ','), ["x,1", r#"say "hi""#, "3"]);
        assert_eq!(fields("\"a\"\t\"b\"", '\t'), ["a", "b"]);
        let mut out = Vec::new();
        assert!(split(r#"c1,"open,1"#, ',', &mut out).is_err());
        assert_eq!(out, ["c1"], "the fields before the broken one are kept");
        assert!(split(r#"c1,"x"y,2"#, ',', &mut out).is_err());
        assert_eq!(out, ["c1"]);
    }

    #[test]
    fn splits_unquoted_lines_as_split_does() {
        let lines = [
            "",
            ",",
            "a",
            "2023-02,6200000001,620101,兰州,personal,2311.44,4622.84,,2889.27,1155.71,,577.85,",
            "abcdefgh,ijklmnop",
            "abcdefg,",
            ",,,,,,,,,,,,,,,,,",
            "兰州白银天水,x,张掖酒泉,,",
            "a\tb\tc",
        ];
        for line in lines {
            for d in [',', '\t', '|'] {
                let mut out = Vec::new();
                assert!(split_unquoted(line, d, &mut out));
                assert_eq!(out, line.split(d).collect::<Vec<_>>(), "{line:?}");
            }
        }
        let mut out = Vec::new();
        assert!(!split_unquoted("a,b,\"c\"", ',', &mut out));
        out.clear();
        assert!(!split_unquoted("abcdefgh,\"", ',', &mut out));
        out.clear();
        assert!(!split_unquoted("a,b", '，', &mut out));
    }

    #[test]
    fn reads_lines_as_the_whole_text_does() {
        let dir = tempfile::tempdir().unwrap();
        let texts: [&[u8]; 8] = [
            b"",
            b"\xEF\xBB\xBFmonth,id\r\n2024-03,c1\r\n\r\n  \nlast",
            b"a\nb\r",
            b"a\n\xFFb\nc\xE4\n",
            b"\xEF\xBB",
            b"x\n\n\n",
            b"\xEF\xBB\xBF",
            "兰州\r\n白银\u{FFFD}\n".as_bytes(),
        ];
        // Lines across the reader's blocks, one longer than a block, a bad byte at a boundary.
        let mut big = Vec::new();
        let mut x = 7u64;
        while big.len() < 5 << 20 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = if x.is_multiple_of(1000) { 1_500_000 } else { (x >> 40) as usize % 200 };
            big.extend(std::iter::repeat_n(b'a' + (x % 26) as u8, len));
            match x % 50 {
                0 => big.push(0xFF),
                1 => big.extend("兰州".as_bytes()),
                2 => big.push(b'\r'),
                _ => {}
            }
            big.push(b'\n');
        }
        big[1 << 20] = 0xE4;
        let mut all: Vec<&[u8]> = texts.to_vec();
        all.push(&big);
        for bytes in all {
            let path = dir.path().join("t.csv");
            std::fs::write(&path, bytes).unwrap();
            let whole = decode(bytes.to_vec(), Encoding::Utf8);
            let expected: Vec<(u64, String, bool)> = lines(&whole)
                .map(|(n, l)| (u64::from(n), l.to_string(), undecodable(l, Encoding::Utf8).is_some()))
                .collect();
            let mut got = Vec::new();
            for_each_line(&path, Encoding::Utf8, |l| {
                got.push((l.number, l.text.to_string(), l.lossy && undecodable(l.text, Encoding::Utf8).is_some()));
            })
            .unwrap();
            assert!(got == expected, "{:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(100)]));
        }
    }

    #[test]
    fn neutralises_formulas_and_quotes() {
        assert_eq!(csv_field("c1"), "c1");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("+86"), "'+86");
        assert_eq!(csv_field("-5"), "'-5");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\",1)"), "\"'=HYPERLINK(\"\"x\"\",1)\"");
    }

    #[test]
    fn decodes_gbk_and_drops_a_bom() {
        let (gbk, _, _) = encoding_rs::GBK.encode("兰州,金卡");
        assert_eq!(decode(gbk.into_owned(), Encoding::Gbk), "兰州,金卡");
        assert_eq!(decode(b"\xEF\xBB\xBFmonth".to_vec(), Encoding::Utf8), "month");
        let bad = decode(b"a\xFFb".to_vec(), Encoding::Utf8);
        assert!(undecodable(&bad, Encoding::Utf8).is_some());
    }
}
