//! Line numbers for CSV records. The csv crate reports record positions that are off for CRLF
//! files and after blank lines (a record "starts" on the previous line's `\n`), so the loader counts
//! lines itself: [`LineCounting`] wraps the input and notes where every `\r` and `\n` is, and
//! [`LineCounter::line_of`] turns a record's reported byte offset into the line its content starts on.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

/// Positions of `\r` (false) and `\n` (true) read but not yet passed by the parser.
type Marks = Rc<RefCell<VecDeque<(u64, bool)>>>;

/// A reader that notes line-break positions as the CSV parser pulls bytes through it.
pub struct LineCounting<R> {
    inner: R,
    offset: u64,
    marks: Marks,
}

/// The parser-side view: converts record offsets to 1-based line numbers, in increasing order.
pub struct LineCounter {
    marks: Marks,
    lines_before: u64,
}

pub fn line_counting<R: Read>(inner: R) -> (LineCounting<R>, LineCounter) {
    let marks = Marks::default();
    (
        LineCounting {
            inner,
            offset: 0,
            marks: marks.clone(),
        },
        LineCounter {
            marks,
            lines_before: 0,
        },
    )
}

impl<R: Read> Read for LineCounting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut marks = self.marks.borrow_mut();
        for i in memchr::memchr2_iter(b'\r', b'\n', &buf[..n]) {
            marks.push_back((self.offset + i as u64, buf[i] == b'\n'));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl LineCounter {
    /// The line on which a record's content starts, given the byte offset the csv crate reports.
    /// Offsets must not decrease between calls.
    pub fn line_of(&mut self, offset: u64) -> u64 {
        let mut marks = self.marks.borrow_mut();
        while let Some(&(pos, is_lf)) = marks.front() {
            if pos >= offset {
                break;
            }
            self.lines_before += u64::from(is_lf);
            marks.pop_front();
        }
        // Line breaks at the reported offset and right after it precede the content.
        let mut cursor = offset;
        while let Some(&(pos, is_lf)) = marks.front() {
            if pos != cursor {
                break;
            }
            self.lines_before += u64::from(is_lf);
            marks.pop_front();
            cursor += 1;
        }
        self.lines_before + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8]) -> Vec<(String, u64)> {
        let (reader, mut counter) = line_counting(data);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader);
        let mut record = csv::ByteRecord::new();
        let mut out = Vec::new();
        while csv.read_byte_record(&mut record).unwrap() {
            let offset = record.position().unwrap().byte();
            out.push((
                String::from_utf8_lossy(&record[0]).into_owned(),
                counter.line_of(offset),
            ));
        }
        out
    }

    fn names(v: &[(&str, u64)]) -> Vec<(String, u64)> {
        v.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    }

    #[test]
    fn lf_crlf_quoted_breaks_and_blank_lines() {
        let expected = names(&[("h", 1), ("a", 2), ("x\ny", 3), ("b", 5), ("c", 6)]);
        assert_eq!(lines(b"h\na\n\"x\ny\"\nb\nc\n"), expected);
        let expected = names(&[("h", 1), ("a", 2), ("x\r\ny", 3), ("b", 5), ("c", 6)]);
        assert_eq!(lines(b"h\r\na\r\n\"x\r\ny\"\r\nb\r\nc"), expected);
        assert_eq!(
            lines(b"h\r\n\r\na\r\n\n\nb\r\n"),
            names(&[("h", 1), ("a", 3), ("b", 6)])
        );
        assert_eq!(
            lines(b"\xEF\xBB\xBFh\na"),
            // The csv crate strips a byte-order mark itself.
            names(&[("h", 1), ("a", 2)])
        );
    }
}
