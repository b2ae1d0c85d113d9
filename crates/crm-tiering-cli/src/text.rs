//! Delimited text: decoding (UTF-8 or GBK), lines and fields with RFC 4180 quoting.

use std::borrow::Cow;
use std::path::Path;

use crate::Encoding;
use crate::exit::{Exit, Failure, io_error};

/// A decoded text file.
pub(crate) struct TextFile {
    /// The path as given, for messages.
    pub(crate) name: String,
    /// The decoded text.
    pub(crate) text: String,
}

/// Reads and decodes a whole file. Bytes that are not valid in the encoding become U+FFFD and
/// the lines holding them are reported by [`lines`].
pub(crate) fn read_text(path: &Path, encoding: Encoding) -> Result<TextFile, Failure> {
    let bytes = std::fs::read(path).map_err(|e| io_error(Exit::Usage, path, "read the input file", &e))?;
    Ok(TextFile { name: path.display().to_string(), text: decode(bytes, encoding) })
}

/// Decodes bytes in the encoding, dropping a UTF-8 byte-order mark.
pub(crate) fn decode(bytes: Vec<u8>, encoding: Encoding) -> String {
    match encoding {
        Encoding::Utf8 => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").map(<[u8]>::to_vec).unwrap_or(bytes);
            match String::from_utf8(body) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }
        }
        Encoding::Gbk => {
            // GB18030 is a superset of GBK: every GBK file decodes the same.
            let (text, _, _) = encoding_rs::GB18030.decode(&bytes);
            text.into_owned()
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
        Encoding::Utf8 => "the line is not valid UTF-8 (for GBK extracts give --encoding gbk)".to_string(),
        Encoding::Gbk => "the line is not valid GBK text".to_string(),
    })
}

/// Splits a line into fields. Fields may be quoted with `"` (a doubled `""` inside is a quote).
/// Unquoted fields are kept as they are (spaces included: the core refuses an id with
/// leading or trailing spaces, and trims the cells where spaces do not matter); spaces around a
/// quoted field are dropped. On an error `out` holds the fields read correctly before the one
/// that cannot be read.
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
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if quoted[i + 1..].starts_with('"') {
                        value.push('"');
                        chars.next();
                    } else {
                        end = Some(i + 1);
                        break;
                    }
                } else {
                    value.push(c);
                }
            }
            let Some(end) = end else {
                return Err("a quoted field is not closed".to_string());
            };
            let after = quoted[end..].trim_start_matches(' ');
            if after.is_empty() {
                out.push(Cow::Owned(value));
                return Ok(());
            }
            match after.strip_prefix(delimiter) {
                Some(r) => {
                    out.push(Cow::Owned(value));
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
