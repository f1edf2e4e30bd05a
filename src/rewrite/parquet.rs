//! Cleaning Parquet: the file is written again with the same schema, the
//! same row groups (same rows, same order) and the same key-value metadata
//! (so pyarrow's stored Arrow schema and pandas metadata still apply).
//! Every column but the text column is copied as it was encoded, pages,
//! statistics, bloom filters and page indexes included; the text column is
//! decoded, loses the removed paragraphs, and is encoded again with the
//! input's codec. Rows cannot be left out without rewriting every column,
//! so `--drop-empty` is refused for a row that lost all its text.
//!
//! The output is built in memory one row group at a time and handed to the
//! [`Output`] between row groups.

use std::io;
use std::sync::Arc;

use parquet::basic::Type as PhysicalType;
use parquet::bloom_filter::Sbbf;
use parquet::column::reader::ColumnReader;
use parquet::column::writer::ColumnCloseResult;
use parquet::data_type::{ByteArray, ByteArrayType};
use parquet::errors::ParquetError;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataReader};
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::file::reader::{FileReader, Length, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;

use super::{CleanOptions, Decoded, Event, InputPlan, Output, Stats, cut_document};
use crate::Error;
use crate::corpus::Input;
use crate::corpus::parquet::{Shared, guarded, io_error};

/// Rows decoded and encoded at a time.
const BATCH: usize = 1024;

pub(super) fn rewrite(
    input: &Input,
    plan: &InputPlan<'_>,
    options: &CleanOptions,
    out: &mut dyn Output,
    log: &mut impl FnMut(Event<'_>) -> Result<(), Error>,
) -> Result<Stats, Error> {
    // A panic in the parquet crate is an error about this file (see
    // `guarded`); the other inputs are still cleaned.
    guarded(|| Ok(rewrite_unguarded(input, plan, options, out, log)))
        .map_err(|e| Error::io(input.source.name(), e))?
}

fn rewrite_unguarded(
    input: &Input,
    plan: &InputPlan<'_>,
    options: &CleanOptions,
    out: &mut dyn Output,
    log: &mut impl FnMut(Event<'_>) -> Result<(), Error>,
) -> Result<Stats, Error> {
    let name = input.source.name();
    let fail = |e: ParquetError| Error::io(name, io_error(e));
    let shared = input
        .source
        .open_seekable()
        .and_then(Shared::new)
        .map_err(|e| Error::io(name, e))?;
    // The page indexes, when the file has them, are copied with their
    // columns.
    let metadata = ParquetMetaDataReader::new()
        .with_page_index_policy(PageIndexPolicy::Optional)
        .parse_and_finish(&shared)
        .map_err(fail)?;
    let file = SerializedFileReader::new(shared.clone()).map_err(fail)?;
    let schema = metadata.file_metadata().schema_descr();
    let text = schema
        .columns()
        .iter()
        .position(|c| c.path().string() == options.fields.text)
        .filter(|&i| {
            let c = schema.column(i);
            c.physical_type() == PhysicalType::BYTE_ARRAY && c.max_rep_level() == 0
        })
        // The scan read this file; it cannot lack its text column now.
        .ok_or_else(|| Error::changed(name))?;
    let text_column = schema.column(text);
    let max_def = text_column.max_def_level();

    let mut props = WriterProperties::builder()
        .set_writer_version(match metadata.file_metadata().version() {
            1 => WriterVersion::PARQUET_1_0,
            _ => WriterVersion::PARQUET_2_0,
        })
        .set_key_value_metadata(metadata.file_metadata().key_value_metadata().cloned());
    if let Some(rg) = metadata.row_groups().first() {
        props = props
            .set_column_compression(text_column.path().clone(), rg.column(text).compression())
            .set_sorting_columns(rg.sorting_columns().cloned());
    }
    let mut writer = SerializedFileWriter::new(
        Vec::new(),
        schema.root_schema_ptr(),
        Arc::new(props.build()),
    )
    .map_err(fail)?;

    let mut stats = Stats {
        bytes_in: shared.len(),
        ..Stats::default()
    };
    let mut todo = plan.iter().peekable();
    let mut row = 0u64;
    let page_index = metadata.page_index();
    for (g, rg) in metadata.row_groups().iter().enumerate() {
        let mut group = writer.next_row_group().map_err(fail)?;
        for (c, column) in rg.columns().iter().enumerate() {
            if c != text {
                let close = ColumnCloseResult {
                    bytes_written: column.compressed_size() as u64,
                    rows_written: rg.num_rows() as u64,
                    metadata: column.clone(),
                    bloom_filter: Sbbf::read_from_column_chunk(column, &shared).ok().flatten(),
                    column_index: page_index.and_then(|p| p.column_index(g, c)).cloned(),
                    offset_index: page_index.and_then(|p| p.offset_index(g, c)).cloned(),
                };
                group.append_column(&shared, close).map_err(fail)?;
                continue;
            }
            let mut reader = match file
                .get_row_group(g)
                .and_then(|r| r.get_column_reader(c))
                .map_err(fail)?
            {
                ColumnReader::ByteArrayColumnReader(r) => r,
                _ => unreachable!("the text column holds byte arrays"),
            };
            let mut column_writer = group
                .next_column()
                .map_err(fail)?
                .expect("the schema has this column");
            let (mut levels, mut values) = (Vec::new(), Vec::<ByteArray>::new());
            loop {
                levels.clear();
                values.clear();
                let nullable = max_def > 0;
                let (rows, _, _) = reader
                    .read_records(BATCH, nullable.then_some(&mut levels), None, &mut values)
                    .map_err(fail)?;
                if rows == 0 {
                    break;
                }
                let mut value = 0;
                let present = (0..rows).map(|r| !nullable || levels[r] == max_def);
                for present in present {
                    row += 1;
                    if !present {
                        continue;
                    }
                    if let Some((_, list)) = todo.next_if(|&(&at, _)| at == row) {
                        let mut kept = Vec::new();
                        let outcome = cut_document(
                            name,
                            values[value].data(),
                            &Decoded::of(values[value].data()),
                            list,
                            options,
                            &mut kept,
                            |_| row,
                            log,
                        )?;
                        stats.removed += list.len() as u64;
                        if outcome.emptied {
                            stats.emptied += 1;
                            if options.drop_empty {
                                return Err(Error::record(
                                    name,
                                    row,
                                    "every paragraph of this row repeats others, and --drop-empty \
                                     cannot leave out Parquet rows; clean without it to keep the row \
                                     with empty text",
                                ));
                            }
                        }
                        values[value] = ByteArray::from(kept);
                    }
                    value += 1;
                }
                column_writer
                    .typed::<ByteArrayType>()
                    .write_batch(&values, nullable.then(|| &levels[..rows]), None)
                    .map_err(fail)?;
            }
            column_writer.close().map_err(fail)?;
        }
        group.close().map_err(fail)?;
        stats.bytes_out += drain(&mut writer, out).map_err(|e| Error::io(name, e))?;
    }
    if todo.next().is_some() {
        return Err(Error::changed(name));
    }
    let rest = writer.into_inner().map_err(fail)?;
    out.write_all(&rest).map_err(|e| Error::io(name, e))?;
    stats.bytes_out += rest.len() as u64;
    Ok(stats)
}

/// Hands what the writer has produced so far to `out`. The writer counts
/// the bytes it writes itself, so emptying its buffer does not upset the
/// offsets it records.
fn drain(writer: &mut SerializedFileWriter<Vec<u8>>, out: &mut dyn Output) -> io::Result<u64> {
    writer.flush()?;
    let bytes = std::mem::take(writer.inner_mut());
    out.write_all(&bytes)?;
    Ok(bytes.len() as u64)
}
