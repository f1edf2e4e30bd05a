//! [`Document`]: one document of a record format (a JSON Lines record, a
//! WET conversion record, a Parquet row), as every format's reader gives it.

use std::borrow::Cow;

/// One document of a record format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document<'a> {
    /// Where the document is in its input, unique within it: the 1-based
    /// line of a JSON Lines record or of a WARC record's version line, or
    /// the 1-based row of a Parquet file.
    pub line: u64,
    /// The document's id (JSON Lines and Parquet: the id field; WET: the
    /// `WARC-Record-ID`), if it has one.
    pub id: Option<Cow<'a, str>>,
    /// The address of the page the text came from (WET:
    /// `WARC-Target-URI`), if known.
    pub url: Option<Cow<'a, str>>,
    /// The document text.
    pub text: Cow<'a, str>,
    /// The 1-based input line of the text's first line, for formats that
    /// store the text as input lines (WET). `None` when the whole document
    /// sits at [`line`](Self::line).
    pub text_line: Option<u64>,
}

impl Document<'_> {
    /// The 1-based input line of a paragraph that starts on the 0-based
    /// line `line` of the text.
    pub fn line_of(&self, line: u64) -> u64 {
        self.text_line.map_or(self.line, |first| first + line)
    }

    /// The name reports give the document: its id, or its line (row)
    /// number when it has none.
    pub fn name(&self) -> Cow<'_, str> {
        match &self.id {
            Some(id) => Cow::Borrowed(id),
            None => Cow::Owned(self.line.to_string()),
        }
    }
}
