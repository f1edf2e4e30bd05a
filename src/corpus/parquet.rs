//! Parquet input: the rows of a Parquet file in, blocks of whole rows out.
//!
//! Parquet is not a byte stream: its index sits at the end of the file and
//! its columns are stored apart. So a Parquet input is not decoded and cut
//! like the line formats; instead [`Blocks`] reads just the text and id
//! columns, row group after row group, and packs whole rows into
//! [`Block`]s of about the block size. Each block's `data` holds its rows
//! in a small length-prefixed layout that `documents` reads back, so a
//! block stays one allocation and the batch driver handles it like any
//! other. Blocks depend only on the file's rows, so the second pass sees
//! the blocks of the first.
//!
//! Only the two columns neardup needs are decoded (the other columns are
//! never read). The text column must hold strings (`BYTE_ARRAY`); the id
//! column may hold strings, numbers or fixed-size binary (shown as hex),
//! and decimals and dates are shown as their values (`1.23`,
//! `2020-01-01`), so that a report joins back to the rows; an
//! id column of another type (BOOLEAN, INT96), a list or a struct is a
//! warning on each row, which is named by its number, as a JSON Lines
//! record with an unusable id is (an array or object id).
//! Both are found by name, a dotted path for a field inside a struct;
//! a text column that is a list is an error.

use std::borrow::Cow;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{
    ByteArray, ByteArrayType, DataType, DoubleType, FixedLenByteArrayType, FloatType, Int32Type,
    Int64Type,
};
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, FileReader, Length, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;

use super::block::Block;
use super::document::Document;
use super::{JsonlFields, ReadSeek};
use crate::Error;

/// Rows decoded from the columns at a time.
const BATCH: usize = 1024;

/// A seekable reader shared by the Parquet reader's page readers, which
/// take turns with it.
#[derive(Clone)]
pub(crate) struct Shared {
    inner: Arc<Mutex<Box<dyn ReadSeek>>>,
    len: u64,
}

impl Shared {
    pub(crate) fn new(mut reader: Box<dyn ReadSeek>) -> io::Result<Shared> {
        let len = reader.seek(SeekFrom::End(0))?;
        Ok(Shared {
            inner: Arc::new(Mutex::new(reader)),
            len,
        })
    }

    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut reader = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        reader.seek(SeekFrom::Start(pos))?;
        reader.read(buf)
    }
}

impl Length for Shared {
    fn len(&self) -> u64 {
        self.len
    }
}

/// A [`Read`] from a position of a [`Shared`] reader.
pub(crate) struct SharedRead {
    shared: Shared,
    pos: u64,
}

impl Read for SharedRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.shared.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl ChunkReader for Shared {
    type T = BufReader<SharedRead>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(BufReader::new(SharedRead {
            shared: self.clone(),
            pos: start,
        }))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let mut buf = vec![0; length];
        let mut reader = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        reader.seek(SeekFrom::Start(start))?;
        reader.read_exact(&mut buf)?;
        Ok(buf.into())
    }
}

/// [`guarded`] for the parquet crate, which panics on some malformed files.
pub(crate) fn guarded<T>(f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    crate::guard::guarded("the Parquet reader", f)
}

/// A Parquet error as an I/O error, which is how a failing input is
/// reported.
pub(crate) fn io_error(e: ParquetError) -> io::Error {
    match e {
        ParquetError::External(inner) => io::Error::new(io::ErrorKind::InvalidData, inner),
        e => io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
    }
}

/// The leaf column at dotted path `name`.
fn find_column(file: &SerializedFileReader<Shared>, name: &str) -> Option<usize> {
    let schema = file.metadata().file_metadata().schema_descr();
    schema
        .columns()
        .iter()
        .position(|c| c.path().string() == name)
}

/// Whether `name` is a list: its leaf columns sit below it and repeat.
fn is_list(file: &SerializedFileReader<Shared>, name: &str) -> bool {
    let schema = file.metadata().file_metadata().schema_descr();
    schema
        .columns()
        .iter()
        .any(|c| c.path().parts().first().is_some_and(|p| p == name) && c.max_rep_level() > 0)
}

/// The id column at dotted path `name`, or, if the field there cannot
/// give ids, the row flag saying why: a BOOLEAN or INT96 column, a list,
/// or a struct (a field with fields of its own). No field `name`: no id
/// and no flag (rows are named by their number, as the id field is
/// optional).
fn id_column(file: &SerializedFileReader<Shared>, name: &str) -> (Option<usize>, u8) {
    let schema = file.metadata().file_metadata().schema_descr();
    if let Some(i) = find_column(file, name) {
        let c = schema.column(i);
        return match c.physical_type() {
            _ if c.max_rep_level() > 0 => (None, ID_LIST),
            PhysicalType::BOOLEAN => (None, ID_BOOLEAN),
            PhysicalType::INT96 => (None, ID_INT96),
            _ => (Some(i), 0),
        };
    }
    let parts: Vec<&str> = name.split('.').collect();
    let below: Vec<_> = (schema.columns().iter())
        .filter(|c| {
            let path = c.path().parts();
            path.len() > parts.len() && path.iter().zip(&parts).all(|(a, b)| a == b)
        })
        .collect();
    if below.is_empty() {
        (None, 0)
    } else if below.iter().any(|c| c.max_rep_level() > 0) {
        (None, ID_LIST)
    } else {
        (None, ID_STRUCT)
    }
}

fn column_names(file: &SerializedFileReader<Shared>) -> String {
    let schema = file.metadata().file_metadata().schema_descr();
    let names: Vec<String> = schema.columns().iter().map(|c| c.path().string()).collect();
    names.join(", ")
}

fn check_not_list(c: &ColumnDescriptor) -> io::Result<()> {
    if c.max_rep_level() > 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "column `{}` is a list; neardup reads only single values",
                c.path()
            ),
        ));
    }
    Ok(())
}

/// Reads one column's values in batches, `None` for nulls.
struct Column<T: DataType> {
    reader: ColumnReaderImpl<T>,
    /// The definition level of a present value (0: the column cannot be
    /// null). Columns are not repeated, so any lower level is a null.
    max_def: i16,
    levels: Vec<i16>,
    values: Vec<T::T>,
}

impl<T: DataType> Column<T> {
    fn new(reader: ColumnReaderImpl<T>, descriptor: &ColumnDescriptor) -> Column<T> {
        Column {
            reader,
            max_def: descriptor.max_def_level(),
            levels: Vec::new(),
            values: Vec::new(),
        }
    }

    /// The next up to `n` rows' values, in order, `None` for nulls.
    fn read(&mut self, n: usize, mut each: impl FnMut(Option<&T::T>)) -> io::Result<usize> {
        self.levels.clear();
        self.values.clear();
        let nullable = self.max_def > 0;
        let levels = nullable.then_some(&mut self.levels);
        let (rows, _, _) = self
            .reader
            .read_records(n, levels, None, &mut self.values)
            .map_err(io_error)?;
        if nullable {
            let mut values = self.values.iter();
            for &level in &self.levels[..rows] {
                each(if level == self.max_def {
                    values.next()
                } else {
                    None
                });
            }
        } else {
            self.values[..rows].iter().for_each(|v| each(Some(v)));
        }
        Ok(rows)
    }
}

/// The id column, of whichever type it has. Every id is shown exactly:
/// integers in decimal, unsigned ones (stored in a signed physical type)
/// read as unsigned, floating-point numbers in their shortest form that
/// reads back as the same value (`12345` for 12345.0, as pandas writes an
/// integer id column that has a null).
enum IdColumn {
    Bytes(Column<ByteArrayType>, Shown),
    Fixed(Column<FixedLenByteArrayType>, Shown),
    Int32(Column<Int32Type>, Shown),
    Int64(Column<Int64Type>, Shown),
    Float(Column<FloatType>),
    Double(Column<DoubleType>),
}

/// How an id column's stored numbers read as the values they stand for.
/// A `UINT_*` column stores its values in the signed type of the same
/// width, so `u32::MAX` is stored as -1; a `DECIMAL(p, s)` column stores
/// the value times 10^s (1.23 as 123, and in binary columns as big-endian
/// two's complement bytes); a `DATE` column the days since 1970-01-01; a
/// `TIMESTAMP` column the milli-, micro- or nanoseconds since then, shown
/// as `2020-01-01T00:00:00.5Z` (without the `Z` when the column is not
/// adjusted to UTC: a local time).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Signed,
    Unsigned,
    Decimal(i32),
    Date,
    Timestamp { per_second: i64, utc: bool },
}

impl Shown {
    fn of(d: &ColumnDescriptor) -> Shown {
        let unsigned = matches!(
            d.converted_type(),
            ConvertedType::UINT_8
                | ConvertedType::UINT_16
                | ConvertedType::UINT_32
                | ConvertedType::UINT_64
        ) || matches!(d.logical_type_ref(), Some(LogicalType::Integer(int)) if !int.is_signed);
        match d.logical_type_ref() {
            Some(LogicalType::Decimal(d)) => Shown::Decimal(d.scale),
            Some(LogicalType::Date) => Shown::Date,
            Some(LogicalType::Timestamp(t)) => Shown::Timestamp {
                per_second: match t.unit {
                    TimeUnit::MILLIS => 1_000,
                    TimeUnit::MICROS => 1_000_000,
                    TimeUnit::NANOS => 1_000_000_000,
                },
                utc: t.is_adjusted_to_u_t_c,
            },
            _ if d.converted_type() == ConvertedType::DECIMAL => Shown::Decimal(d.type_scale()),
            _ if d.converted_type() == ConvertedType::DATE => Shown::Date,
            _ if d.converted_type() == ConvertedType::TIMESTAMP_MILLIS => Shown::Timestamp {
                per_second: 1_000,
                utc: true,
            },
            _ if d.converted_type() == ConvertedType::TIMESTAMP_MICROS => Shown::Timestamp {
                per_second: 1_000_000,
                utc: true,
            },
            _ if unsigned => Shown::Unsigned,
            _ => Shown::Signed,
        }
    }

    /// The text of stored integer `v` read this way.
    fn show(self, v: i64, width: u32) -> String {
        match self {
            Shown::Signed => v.to_string(),
            // The stored bits, as unsigned.
            Shown::Unsigned => (v as u64 & (u64::MAX >> (64 - width))).to_string(),
            Shown::Decimal(scale) => decimal(i128::from(v), scale),
            Shown::Date => {
                let time = crate::index::utc_time(v.saturating_mul(86_400));
                time.split('T').next().unwrap_or_default().to_owned()
            }
            Shown::Timestamp { per_second, utc } => {
                let (secs, part) = (v.div_euclid(per_second), v.rem_euclid(per_second));
                let time = crate::index::utc_time(secs);
                let stem = time.trim_end_matches('Z');
                let fraction = if part == 0 {
                    String::new()
                } else {
                    let digits = per_second.ilog10() as usize;
                    let text = format!(".{part:0digits$}");
                    text.trim_end_matches('0').to_owned()
                };
                format!("{stem}{fraction}{}", if utc { "Z" } else { "" })
            }
        }
    }
}

/// `unscaled` × 10^−`scale` in decimal: `decimal(123, 2)` is `1.23`.
fn decimal(unscaled: i128, scale: i32) -> String {
    if scale.unsigned_abs() > 100 {
        // No decimal has such a scale (38 digits at most): a damaged
        // schema, shown exactly without a hundred zeros.
        return format!("{unscaled}e{}", -i64::from(scale));
    }
    let sign = if unscaled < 0 { "-" } else { "" };
    let digits = unscaled.unsigned_abs().to_string();
    if scale <= 0 || unscaled == 0 {
        let zeros = if unscaled == 0 {
            0
        } else {
            scale.unsigned_abs()
        };
        return format!("{sign}{digits}{}", "0".repeat(zeros as usize));
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

/// A binary decimal's text, or its bytes in hex if it is over 16 bytes.
fn binary_decimal(bytes: &[u8], scale: i32) -> String {
    decimal_bytes(bytes).map_or_else(|| hex(bytes), |v| decimal(v, scale))
}

/// Bytes in hexadecimal, two digits each.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A decimal's unscaled value from its big-endian two's complement bytes
/// (up to 16; `None` for more).
fn decimal_bytes(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut be = [fill; 16];
    be[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(be))
}

impl IdColumn {
    /// The column, or `None` for a type that cannot be an id (which
    /// `Blocks::open` has already left unread).
    fn new(reader: ColumnReader, d: &ColumnDescriptor) -> Option<IdColumn> {
        Some(match reader {
            ColumnReader::ByteArrayColumnReader(r) => {
                IdColumn::Bytes(Column::new(r, d), Shown::of(d))
            }
            ColumnReader::FixedLenByteArrayColumnReader(r) => {
                IdColumn::Fixed(Column::new(r, d), Shown::of(d))
            }
            ColumnReader::Int32ColumnReader(r) => IdColumn::Int32(Column::new(r, d), Shown::of(d)),
            ColumnReader::Int64ColumnReader(r) => IdColumn::Int64(Column::new(r, d), Shown::of(d)),
            ColumnReader::FloatColumnReader(r) => IdColumn::Float(Column::new(r, d)),
            ColumnReader::DoubleColumnReader(r) => IdColumn::Double(Column::new(r, d)),
            ColumnReader::BoolColumnReader(_) | ColumnReader::Int96ColumnReader(_) => return None,
        })
    }

    /// The next `n` ids, as text.
    fn read(&mut self, n: usize, ids: &mut Vec<Option<String>>) -> io::Result<usize> {
        ids.clear();
        match self {
            IdColumn::Bytes(c, Shown::Decimal(scale)) => {
                let scale = *scale;
                c.read(n, |v| ids.push(v.map(|v| binary_decimal(v.data(), scale))))
            }
            IdColumn::Fixed(c, Shown::Decimal(scale)) => {
                let scale = *scale;
                c.read(n, |v| ids.push(v.map(|v| binary_decimal(v.data(), scale))))
            }
            IdColumn::Bytes(c, _) => c.read(n, |v| {
                ids.push(v.map(|v| String::from_utf8_lossy(v.data()).into_owned()))
            }),
            IdColumn::Fixed(c, _) => c.read(n, |v| ids.push(v.map(|v| hex(v.data())))),
            IdColumn::Int32(c, shown) => {
                let shown = *shown;
                c.read(n, |v| ids.push(v.map(|&v| shown.show(i64::from(v), 32))))
            }
            IdColumn::Int64(c, shown) => {
                let shown = *shown;
                c.read(n, |v| ids.push(v.map(|&v| shown.show(v, 64))))
            }
            // `Display` gives the shortest digits that read back as the
            // same value, never an exponent.
            IdColumn::Float(c) => c.read(n, |v| ids.push(v.map(f32::to_string))),
            IdColumn::Double(c) => c.read(n, |v| ids.push(v.map(f64::to_string))),
        }
    }
}

/// The text and id columns of the current row group.
struct Group {
    text: Column<ByteArrayType>,
    id: Option<IdColumn>,
}

/// Row flags in a block's layout.
const NULL_TEXT: u8 = 1;
const HAS_ID: u8 = 2;
/// The row's id field cannot give an id: a BOOLEAN or INT96 column, a
/// list or a struct.
const ID_BOOLEAN: u8 = 4;
const ID_INT96: u8 = 8;
const ID_LIST: u8 = 16;
const ID_STRUCT: u8 = 32;

/// Appends one row to a block's data: a flag byte, then the id and the
/// text (each present per the flags), each as a little-endian `u32`
/// length and the bytes.
fn push_row(data: &mut Vec<u8>, unusable_id: u8, id: Option<&[u8]>, text: Option<&[u8]>) {
    let flags = if text.is_none() { NULL_TEXT } else { 0 } | if id.is_some() { HAS_ID } else { 0 };
    data.push(flags | unusable_id);
    for field in [id, text].into_iter().flatten() {
        // Parquet stores byte array lengths as i32, so they fit.
        data.extend_from_slice(&(field.len() as u32).to_le_bytes());
        data.extend_from_slice(field);
    }
}

/// The rows of a Parquet file in [`Block`]s of whole rows. A block's
/// `first_line` is the number of rows before it; its `offset`, the
/// block bytes before it.
pub struct Blocks {
    file: SerializedFileReader<Shared>,
    text: usize,
    id: Option<usize>,
    /// [`ID_BOOLEAN`], [`ID_INT96`], [`ID_LIST`] or [`ID_STRUCT`] when
    /// the id field is that (and `id` is `None`): every row gets the flag,
    /// and a warning.
    unusable_id: u8,
    size: usize,
    next_group: usize,
    group: Option<Group>,
    rows: u64,
    offset: u64,
    /// Rows decoded but not yet in a block.
    pending: std::collections::VecDeque<(Option<String>, Option<ByteArray>)>,
    failed: bool,
}

impl Blocks {
    /// Blocks of about `size` bytes from the Parquet file `reader`, with
    /// the text and id columns named in `fields`.
    ///
    /// # Errors
    ///
    /// Returns an error if the file is not Parquet, has no text column, or
    /// a column has a type neardup cannot read.
    pub fn new(reader: Box<dyn ReadSeek>, fields: &JsonlFields, size: usize) -> io::Result<Blocks> {
        guarded(|| Blocks::open(reader, fields, size))
    }

    fn open(reader: Box<dyn ReadSeek>, fields: &JsonlFields, size: usize) -> io::Result<Blocks> {
        let file = SerializedFileReader::new(Shared::new(reader)?).map_err(io_error)?;
        let schema = file.metadata().file_metadata().schema_descr_ptr();
        let Some(text) = find_column(&file, &fields.text) else {
            let message = if is_list(&file, &fields.text) {
                format!(
                    "column `{}` is a list; neardup reads only single values",
                    fields.text
                )
            } else {
                format!(
                    "no column `{}` (columns: {}); name the text column with --text-field",
                    fields.text,
                    column_names(&file)
                )
            };
            return Err(io::Error::new(io::ErrorKind::InvalidData, message));
        };
        let text_column = schema.column(text);
        check_not_list(&text_column)?;
        if text_column.physical_type() != PhysicalType::BYTE_ARRAY {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "text column `{}` has type {}, not a string",
                    fields.text,
                    text_column.physical_type()
                ),
            ));
        }
        // An id column that cannot give ids is not a reason to leave rows
        // unread.
        let (id, unusable_id) = id_column(&file, &fields.id);
        Ok(Blocks {
            file,
            text,
            id,
            unusable_id,
            size: size.max(1),
            next_group: 0,
            group: None,
            rows: 0,
            offset: 0,
            pending: Default::default(),
            failed: false,
        })
    }

    /// Decodes up to [`BATCH`] more rows into `pending`; false at the end
    /// of the file.
    fn refill(&mut self) -> io::Result<bool> {
        loop {
            if self.group.is_none() {
                if self.next_group == self.file.num_row_groups() {
                    return Ok(false);
                }
                let rg = self.file.get_row_group(self.next_group).map_err(io_error)?;
                self.next_group += 1;
                let schema = rg.metadata().schema_descr();
                let text = match rg.get_column_reader(self.text).map_err(io_error)? {
                    ColumnReader::ByteArrayColumnReader(r) => {
                        Column::new(r, &schema.column(self.text))
                    }
                    _ => unreachable!("the text column's type was checked"),
                };
                let id = match self.id {
                    Some(i) => IdColumn::new(
                        rg.get_column_reader(i).map_err(io_error)?,
                        &schema.column(i),
                    ),
                    None => None,
                };
                self.group = Some(Group { text, id });
            }
            let group = self.group.as_mut().expect("set above");
            let mut texts = Vec::with_capacity(BATCH);
            let n = group.text.read(BATCH, |v| texts.push(v.cloned()))?;
            if n == 0 {
                self.group = None;
                continue;
            }
            let mut ids = Vec::with_capacity(BATCH);
            match &mut group.id {
                Some(column) => {
                    if column.read(n, &mut ids)? != n {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "the id column has fewer rows than the text column",
                        ));
                    }
                }
                None => ids.resize(n, None),
            }
            self.pending.extend(ids.into_iter().zip(texts));
            return Ok(true);
        }
    }

    fn next_block(&mut self) -> io::Result<Option<Block>> {
        let mut block = Block {
            data: Vec::new(),
            offset: self.offset,
            first_line: self.rows,
            member: None,
        };
        while block.data.len() < self.size {
            let Some((id, text)) = self.pending.pop_front() else {
                if self.refill()? {
                    continue;
                }
                break;
            };
            let text = text.as_ref().map(ByteArray::data);
            let id = id.as_deref().map(str::as_bytes);
            push_row(&mut block.data, self.unusable_id, id, text);
            self.rows += 1;
        }
        if block.data.is_empty() {
            return Ok(None);
        }
        self.offset += block.data.len() as u64;
        Ok(Some(block))
    }
}

impl Iterator for Blocks {
    type Item = io::Result<Block>;

    fn next(&mut self) -> Option<io::Result<Block>> {
        if self.failed {
            return None;
        }
        let next = guarded(|| self.next_block());
        self.failed = next.is_err();
        next.transpose()
    }
}

/// Reads a `u32`-length-prefixed field at `*pos`.
fn field<'a>(data: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let len = u32::from_le_bytes(data[*pos..*pos + 4].try_into().expect("4 bytes")) as usize;
    *pos += 4 + len;
    &data[*pos - len..*pos]
}

/// The documents of a block made by [`Blocks`]; see
/// [`super::record::documents`].
pub(crate) fn documents(
    block: &Block,
    fields: &JsonlFields,
    name: &str,
    wanted: impl Fn(u64) -> bool,
    diagnostics: &mut Vec<Error>,
    mut f: impl FnMut(Document<'_>),
) {
    let data = &block.data;
    let (mut pos, mut row) = (0, block.first_line);
    while pos < data.len() {
        let flags = data[pos];
        pos += 1;
        let id = (flags & HAS_ID != 0).then(|| field(data, &mut pos));
        let text = (flags & NULL_TEXT == 0).then(|| field(data, &mut pos));
        row += 1;
        if !wanted(row) {
            continue;
        }
        for (flag, what) in [
            (ID_BOOLEAN, "a BOOLEAN column"),
            (ID_INT96, "an INT96 column"),
            (ID_LIST, "a list"),
            (ID_STRUCT, "a struct"),
        ] {
            if flags & flag != 0 {
                diagnostics.push(Error::unusable_id(name, row, &fields.id, what, "row"));
            }
        }
        let Some(text) = text else {
            diagnostics.push(Error::record(
                name,
                row,
                format!("field `{}` is null", fields.text),
            ));
            continue;
        };
        let text = match std::str::from_utf8(text) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => {
                diagnostics.push(Error::encoding(name, row));
                String::from_utf8_lossy(text)
            }
        };
        f(Document {
            line: row,
            id: id.map(String::from_utf8_lossy),
            url: None,
            text,
            text_line: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_dates_read_as_their_values() {
        assert_eq!(decimal(123, 2), "1.23");
        assert_eq!(decimal(-5, 3), "-0.005");
        assert_eq!(decimal(0, 2), "0");
        assert_eq!(decimal(42, 0), "42");
        assert_eq!(decimal(42, -2), "4200");
        assert_eq!(decimal(42, i32::MAX), "42e-2147483647");
        assert_eq!(decimal(42, i32::MIN), "42e2147483648");
        assert_eq!(decimal_bytes(&[0x00, 0x7b]), Some(123));
        assert_eq!(decimal_bytes(&[0xff, 0x85]), Some(-123));
        assert_eq!(decimal_bytes(&[0; 17]), None);
        assert_eq!(binary_decimal(&[0xff, 0x85], 2), "-1.23");
        assert_eq!(Shown::Date.show(18_262, 32), "2020-01-01");
        assert_eq!(Shown::Date.show(-1, 32), "1969-12-31");
        let (ms, local_ns) = (
            Shown::Timestamp {
                per_second: 1_000,
                utc: true,
            },
            Shown::Timestamp {
                per_second: 1_000_000_000,
                utc: false,
            },
        );
        assert_eq!(ms.show(1_577_836_800_500, 64), "2020-01-01T00:00:00.5Z");
        assert_eq!(ms.show(-1, 64), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            local_ns.show(1_577_836_800_000_000_000, 64),
            "2020-01-01T00:00:00"
        );
        assert_eq!(
            local_ns.show(1_000_000_007, 64),
            "1970-01-01T00:00:01.000000007"
        );
        assert!(!ms.show(i64::MIN, 64).is_empty() && !ms.show(i64::MAX, 64).is_empty());
        assert_eq!(Shown::Unsigned.show(-1, 32), "4294967295");
        assert_eq!(Shown::Unsigned.show(-1, 64), "18446744073709551615");
        // Far out of any calendar: some text, never a panic.
        assert!(!Shown::Date.show(i64::from(i32::MIN), 32).is_empty());
    }
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    /// One row group's columns, in schema order: each a list of values
    /// with `None` for null.
    enum Values {
        Text(Vec<Option<&'static str>>),
        Int(Vec<Option<i64>>),
        Double(Vec<Option<f64>>),
        Bool(Vec<Option<bool>>),
        /// 64-bit integers with their definition and repetition levels
        /// as given (a list or a field of a struct).
        Nested {
            data: Vec<i64>,
            def: Vec<i16>,
            rep: Option<Vec<i16>>,
        },
    }

    /// A Parquet file of `schema` with one row group per element of
    /// `groups`.
    fn parquet_file(schema: &str, groups: &[Vec<Values>]) -> Vec<u8> {
        let schema = Arc::new(parse_message_type(schema).unwrap());
        let props = Arc::new(WriterProperties::builder().build());
        let mut writer = SerializedFileWriter::new(Vec::new(), schema, props).unwrap();
        for group in groups {
            let mut rg = writer.next_row_group().unwrap();
            for values in group {
                let mut column = rg.next_column().unwrap().unwrap();
                let levels = |present: Vec<bool>| -> Vec<i16> {
                    present.into_iter().map(i16::from).collect()
                };
                match values {
                    Values::Text(v) => {
                        let def = levels(v.iter().map(Option::is_some).collect());
                        let data: Vec<ByteArray> =
                            v.iter().flatten().map(|s| (*s).into()).collect();
                        let w = column.typed::<ByteArrayType>();
                        w.write_batch(&data, Some(&def), None).unwrap();
                    }
                    Values::Int(v) => {
                        let def = levels(v.iter().map(Option::is_some).collect());
                        let data: Vec<i64> = v.iter().flatten().copied().collect();
                        let w = column.typed::<Int64Type>();
                        w.write_batch(&data, Some(&def), None).unwrap();
                    }
                    Values::Double(v) => {
                        let def = levels(v.iter().map(Option::is_some).collect());
                        let data: Vec<f64> = v.iter().flatten().copied().collect();
                        let w = column.typed::<DoubleType>();
                        w.write_batch(&data, Some(&def), None).unwrap();
                    }
                    Values::Bool(v) => {
                        let def = levels(v.iter().map(Option::is_some).collect());
                        let data: Vec<bool> = v.iter().flatten().copied().collect();
                        let w = column.typed::<parquet::data_type::BoolType>();
                        w.write_batch(&data, Some(&def), None).unwrap();
                    }
                    Values::Nested { data, def, rep } => {
                        let w = column.typed::<Int64Type>();
                        w.write_batch(data, Some(def), rep.as_deref()).unwrap();
                    }
                }
                column.close().unwrap();
            }
            rg.close().unwrap();
        }
        writer.into_inner().unwrap()
    }

    const SCHEMA: &str = "message doc { optional binary text (UTF8); optional int64 id; }";

    /// Issue 19: unsigned and floating-point id columns are shown exactly.
    #[test]
    fn number_ids_are_exact() {
        let text = || Values::Text(vec![Some("a"), Some("b"), Some("c"), Some("d")]);
        let unsigned = parquet_file(
            "message doc { optional binary text (UTF8); optional int64 id (UINT_64); }",
            &[vec![
                text(),
                Values::Int(vec![Some(-1), Some(7), None, Some(i64::MIN)]),
            ]],
        );
        let (_, docs, problems) = read_all(unsigned, 1 << 20).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            docs,
            [
                "1 18446744073709551615 a",
                "2 7 b",
                "3 3 c",
                "4 9223372036854775808 d"
            ]
        );
        let double = parquet_file(
            "message doc { optional binary text (UTF8); optional double id; }",
            &[vec![
                text(),
                Values::Double(vec![Some(12345.0), Some(0.1), Some(-0.0), Some(1e-7)]),
            ]],
        );
        let (_, docs, _) = read_all(double, 1 << 20).unwrap();
        assert_eq!(docs, ["1 12345 a", "2 0.1 b", "3 -0 c", "4 0.0000001 d"]);
        // A column that cannot hold ids: the rows are read, with warnings.
        let boolean = parquet_file(
            "message doc { optional binary text (UTF8); optional boolean id; }",
            &[vec![
                text(),
                Values::Bool(vec![Some(true), None, Some(false), Some(true)]),
            ]],
        );
        let (_, docs, problems) = read_all(boolean, 1 << 20).unwrap();
        assert_eq!(docs, ["1 1 a", "2 2 b", "3 3 c", "4 4 d"]);
        assert_eq!(problems.len(), 4);
        assert_eq!(
            problems[0],
            "t.parquet:1: the id field `id` is a BOOLEAN column, not a string or number; the \
             record is named by its row number"
        );
    }

    /// An id field that is a list or a struct: the rows are read, named by
    /// their numbers, with a warning saying why.
    #[test]
    fn list_and_struct_ids_are_warnings() {
        // Each id field's schema, its values' definition and repetition
        // levels (rows [5, 6] and [7]; a struct's rows 5 and 6), and what
        // the warning calls it.
        let list = "optional group id (LIST) { repeated group list { optional int64 element; } }";
        type Levels = &'static [i16];
        let cases: [(&str, Levels, Option<Levels>, &str); 3] = [
            (list, &[3, 3, 3], Some(&[0, 1, 0]), "a list"),
            ("repeated int64 id;", &[1, 1, 1], Some(&[0, 1, 0]), "a list"),
            (
                "optional group id { optional int64 n; }",
                &[2, 2],
                None,
                "a struct",
            ),
        ];
        for (id, def, rep, what) in cases {
            let file = parquet_file(
                &format!("message doc {{ optional binary text (UTF8); {id} }}"),
                &[vec![
                    Values::Text(vec![Some("a"), Some("b")]),
                    Values::Nested {
                        data: [5, 6, 7][..def.len()].to_vec(),
                        def: def.to_vec(),
                        rep: rep.map(<[i16]>::to_vec),
                    },
                ]],
            );
            let (_, docs, problems) = read_all(file, 1 << 20).unwrap();
            assert_eq!(docs, ["1 1 a", "2 2 b"]);
            assert_eq!(problems.len(), 2);
            assert_eq!(
                problems[0],
                format!(
                    "t.parquet:1: the id field `id` is {what}, not a string or number; the \
                     record is named by its row number"
                )
            );
        }
    }

    fn read_all(file: Vec<u8>, size: usize) -> io::Result<(Vec<Block>, Vec<String>, Vec<String>)> {
        let blocks: Vec<Block> = Blocks::new(
            Box::new(io::Cursor::new(file)),
            &JsonlFields::default(),
            size,
        )?
        .collect::<io::Result<_>>()?;
        let (mut docs, mut problems) = (Vec::new(), Vec::new());
        for block in &blocks {
            documents(
                block,
                &JsonlFields::default(),
                "t.parquet",
                |_| true,
                &mut problems,
                |d| docs.push(format!("{} {} {}", d.line, d.name(), d.text)),
            );
        }
        let problems = problems.iter().map(ToString::to_string).collect();
        Ok((blocks, docs, problems))
    }

    #[test]
    fn rows_across_row_groups_with_nulls() {
        let file = parquet_file(
            SCHEMA,
            &[
                vec![
                    Values::Text(vec![Some("first text"), None]),
                    Values::Int(vec![Some(10), Some(11)]),
                ],
                vec![
                    Values::Text(vec![Some("third text"), Some("fourth")]),
                    Values::Int(vec![None, Some(-4)]),
                ],
            ],
        );
        // A row takes a flag byte and 4 length bytes per field, so the
        // rows take 21, 7, 15 and 17 bytes: with a block size of 8 the null
        // row shares a block with the next.
        for (size, first_rows) in [(1, &[0, 1, 2, 3][..]), (8, &[0, 1, 3]), (1000, &[0])] {
            let (blocks, docs, problems) = read_all(file.clone(), size).unwrap();
            assert_eq!(
                docs,
                ["1 10 first text", "3 3 third text", "4 -4 fourth"],
                "size {size}"
            );
            assert_eq!(problems, ["t.parquet:2: field `text` is null"]);
            let rows: Vec<u64> = blocks.iter().map(|b| b.first_line).collect();
            assert_eq!(rows, first_rows, "size {size}");
        }
    }

    #[test]
    fn wanted_rows_only() {
        let file = parquet_file(
            "message doc { required binary text (UTF8); }",
            &[vec![Values::Text(vec![
                Some("a b"),
                Some("c d"),
                Some("e f"),
            ])]],
        );
        let blocks: Vec<Block> = Blocks::new(
            Box::new(io::Cursor::new(file)),
            &JsonlFields::default(),
            100,
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
        let mut seen = Vec::new();
        documents(
            &blocks[0],
            &JsonlFields::default(),
            "t",
            |row| row == 2,
            &mut Vec::new(),
            |d| seen.push((d.line, d.name().into_owned(), d.text.into_owned())),
        );
        assert_eq!(seen, [(2, "2".to_owned(), "c d".to_owned())]);
    }

    /// Files neardup cannot read say why, naming the columns.
    #[test]
    fn unreadable_files_are_explained() {
        let no_text = parquet_file("message doc { required int64 id; }", &[]);
        let e = read_all(no_text, 100).unwrap_err().to_string();
        assert!(e.contains("no column `text` (columns: id)"), "{e}");

        let int_text = parquet_file("message doc { required int64 text; }", &[]);
        let e = read_all(int_text, 100).unwrap_err().to_string();
        assert!(e.contains("has type INT64, not a string"), "{e}");

        let list = parquet_file("message doc { repeated binary text (UTF8); }", &[]);
        let e = read_all(list, 100).unwrap_err().to_string();
        assert!(e.contains("is a list"), "{e}");

        let e = read_all(b"PAR1 but not really".to_vec(), 100).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
