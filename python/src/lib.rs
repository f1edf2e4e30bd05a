//! The native part of the `neardup` Python package: the library's scan, a
//! column of texts deduplicated, and the persistent index, with the GIL
//! released while they work.
//!
//! This file is glue only: arguments in, library calls, plain Python data
//! out. The ergonomic API (report objects, Arrow and pandas conversions,
//! the input types `dedup` accepts) is `neardup/__init__.py`, which calls
//! these functions. Every error is the library's, raised as a
//! `NeardupError` subclass with the message the command line prints.

use std::ffi::{CStr, c_char, c_void};
use std::path::{Path, PathBuf};

use neardup::allow::Allowlist;
use neardup::corpus::walk::{self, WalkOptions};
use neardup::corpus::{Format, Input, JsonlFields, MemorySource};
use neardup::id::InputId;
use neardup::index::{self, AddOptions, Index, Settings};
use neardup::normalize::TokenKind;
use neardup::paragraph::{ParagraphMode, paragraphs};
use neardup::pipeline::prior::Prior;
use neardup::pipeline::{Extras, ScanOptions, Silent, scan_with};
use neardup::report::json::Json;
use neardup::report::{Render, Report};
use neardup::rewrite::target::{Origin, Target};
use neardup::rewrite::{self, CleanOptions, Removals, Stats};
use neardup::stage::{self, StageFiles};
use neardup::{Config, Error, ErrorKind, Scope, Threshold};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyDict, PyList, PyString};
use rayon::prelude::*;

create_exception!(
    neardup,
    NeardupError,
    PyException,
    "An error of neardup; the message is the command line's."
);
create_exception!(
    neardup,
    ConfigError,
    NeardupError,
    "An invalid setting (threshold out of range, impossible banding, a bad pattern)."
);
create_exception!(
    neardup,
    InputError,
    NeardupError,
    "An input could not be read, or one of its records is malformed."
);
create_exception!(
    neardup,
    IndexFileError,
    NeardupError,
    "A persistent index could not be used: not an index, damaged, of other settings, or locked."
);

/// The Python exception for a library error, by its kind.
fn py_err(e: Error) -> PyErr {
    let message = e.to_string();
    match e.kind() {
        ErrorKind::Config => ConfigError::new_err(message),
        ErrorKind::Index => IndexFileError::new_err(message),
        ErrorKind::Io
        | ErrorKind::Record
        | ErrorKind::Changed
        | ErrorKind::NotFound
        | ErrorKind::Encoding
        | ErrorKind::Skipped
        | ErrorKind::UnusableId => InputError::new_err(message),
        _ => NeardupError::new_err(message),
    }
}

/// The detection settings, validated by the library as the command line's
/// flags are.
#[pyclass(name = "Config", module = "neardup", frozen)]
#[derive(Clone)]
struct PyConfig {
    config: Config,
    /// What `config` was built from: a new index builds it again for an
    /// index's banding unless the banding was given.
    builder: neardup::ConfigBuilder,
    threshold: String,
    allow_paragraphs: Vec<String>,
    allow_patterns: Vec<String>,
}

#[pymethods]
impl PyConfig {
    #[new]
    #[pyo3(signature = (
        threshold = None,
        *,
        paragraphs = "line",
        shingle = "words",
        shingle_size = None,
        min_words = None,
        num_perm = None,
        bands = None,
        rows = None,
        seed = None,
        scope = "all",
        allow_paragraphs = Vec::new(),
        allow_patterns = Vec::new(),
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        threshold: Option<&Bound<'_, PyAny>>,
        paragraphs: &str,
        shingle: &str,
        shingle_size: Option<usize>,
        min_words: Option<usize>,
        num_perm: Option<usize>,
        bands: Option<usize>,
        rows: Option<usize>,
        seed: Option<u64>,
        scope: &str,
        allow_paragraphs: Vec<String>,
        allow_patterns: Vec<String>,
    ) -> PyResult<PyConfig> {
        let bad = |what: &str, value: &str, allowed: &str| {
            ConfigError::new_err(format!("{what} must be {allowed}, not {value:?}"))
        };
        let mut b = Config::builder()
            .paragraphs(match paragraphs {
                "line" => ParagraphMode::Line,
                "blank-line" => ParagraphMode::BlankLine,
                other => return Err(bad("paragraphs", other, "\"line\" or \"blank-line\"")),
            })
            .tokens(match shingle {
                "words" => TokenKind::Words,
                "chars" => TokenKind::Chars,
                other => return Err(bad("shingle", other, "\"words\" or \"chars\"")),
            })
            .scope(match scope {
                "all" => Scope::All,
                "within" => Scope::Within,
                other => return Err(bad("scope", other, "\"all\" or \"within\"")),
            });
        // A float's text is its shortest decimal (0.8, not
        // 0.80000000000000004), which the threshold parses exactly.
        let threshold = match threshold {
            Some(t) => plain_decimal(&t.str()?.to_string()),
            None => Config::default().threshold().to_string(),
        };
        b = b.threshold(threshold.parse::<Threshold>().map_err(py_err)?);
        if let Some(n) = shingle_size {
            b = b.shingle_size(n);
        }
        if let Some(n) = min_words {
            b = b.min_words(n);
        }
        if let Some(n) = num_perm {
            b = b.num_perm(n);
        }
        if let Some(n) = bands {
            b = b.bands(n);
        }
        if let Some(n) = rows {
            b = b.rows(n);
        }
        if let Some(s) = seed {
            b = b.seed(s);
        }
        let config = b.clone().build().map_err(py_err)?;
        Allowlist::new(&allow_paragraphs, &allow_patterns).map_err(py_err)?;
        Ok(PyConfig {
            config,
            builder: b,
            threshold,
            allow_paragraphs,
            allow_patterns,
        })
    }

    #[getter]
    fn threshold(&self) -> f64 {
        self.config.threshold().as_f64()
    }
    #[getter]
    fn paragraphs(&self) -> &'static str {
        match self.config.paragraphs() {
            ParagraphMode::Line => "line",
            ParagraphMode::BlankLine => "blank-line",
        }
    }
    #[getter]
    fn shingle(&self) -> &'static str {
        match self.config.tokens() {
            TokenKind::Words => "words",
            TokenKind::Chars => "chars",
        }
    }
    #[getter]
    fn shingle_size(&self) -> usize {
        self.config.shingle_size()
    }
    #[getter]
    fn min_words(&self) -> usize {
        self.config.min_words()
    }
    #[getter]
    fn num_perm(&self) -> usize {
        self.config.num_perm()
    }
    #[getter]
    fn bands(&self) -> usize {
        self.config.lsh().bands()
    }
    #[getter]
    fn rows(&self) -> usize {
        self.config.lsh().rows()
    }
    #[getter]
    fn seed(&self) -> u64 {
        self.config.seed()
    }
    #[getter]
    fn scope(&self) -> &'static str {
        self.config.scope().as_str()
    }
    #[getter]
    fn allow_paragraphs(&self) -> Vec<String> {
        self.allow_paragraphs.clone()
    }
    #[getter]
    fn allow_patterns(&self) -> Vec<String> {
        self.allow_patterns.clone()
    }

    /// Pickling (Ray sends a Config to its workers): the arguments that
    /// make it again.
    fn __getnewargs_ex__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, pyo3::types::PyTuple>, Bound<'py, PyDict>)> {
        let args = pyo3::types::PyTuple::new(py, [self.threshold.clone()])?;
        let kw = PyDict::new(py);
        kw.set_item("paragraphs", self.paragraphs())?;
        kw.set_item("shingle", self.shingle())?;
        kw.set_item("shingle_size", self.shingle_size())?;
        kw.set_item("min_words", self.min_words())?;
        kw.set_item("num_perm", self.num_perm())?;
        kw.set_item("bands", self.bands())?;
        kw.set_item("rows", self.rows())?;
        kw.set_item("seed", self.seed())?;
        kw.set_item("scope", self.scope())?;
        kw.set_item("allow_paragraphs", self.allow_paragraphs.clone())?;
        kw.set_item("allow_patterns", self.allow_patterns.clone())?;
        Ok((args, kw))
    }

    /// Equal when every setting is, allowlist included.
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyConfig>().is_ok_and(|o| {
            let o = o.get();
            (&self.config, &self.allow_paragraphs, &self.allow_patterns)
                == (&o.config, &o.allow_paragraphs, &o.allow_patterns)
        })
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&self.config, &self.allow_paragraphs, &self.allow_patterns).hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "Config(threshold={}, paragraphs={:?}, shingle={:?}, shingle_size={}, min_words={}, \
             num_perm={}, bands={}, rows={}, seed={}, scope={:?})",
            self.threshold,
            self.paragraphs(),
            self.shingle(),
            self.shingle_size(),
            self.min_words(),
            self.num_perm(),
            self.bands(),
            self.rows(),
            self.seed(),
            self.scope(),
        )
    }
}

/// A number's text without an exponent: Python writes `0.00001` as
/// `1e-05`, which a threshold (a decimal, parsed exactly) does not take.
fn plain_decimal(text: &str) -> String {
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return text.to_owned();
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return text.to_owned();
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) || exponent.abs() > 400 {
        return text.to_owned();
    }
    let digits = format!("{int}{frac}");
    let point = int.len() as i32 + exponent;
    if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{a}.{b}")
    }
}

impl PyConfig {
    fn options(&self, text_field: &str, id_field: &str) -> Result<ScanOptions, Error> {
        Ok(ScanOptions {
            fields: JsonlFields {
                text: text_field.to_owned(),
                id: id_field.to_owned(),
            },
            allowlist: Allowlist::new(&self.allow_paragraphs, &self.allow_patterns)?,
            // Compressed inputs are decoded once, not once per pass, as
            // by the command.
            scratch_dir: Some(std::env::temp_dir()),
            ..ScanOptions::default()
        })
    }
}

fn format_of(name: Option<&str>) -> PyResult<Option<Format>> {
    Ok(match name {
        None | Some("auto") => None,
        Some("text") => Some(Format::Text),
        Some("jsonl") => Some(Format::Jsonl),
        Some("wet") => Some(Format::Wet),
        Some("parquet") => Some(Format::Parquet),
        Some(other) => {
            return Err(ConfigError::new_err(format!(
                "input_format must be \"auto\", \"text\", \"jsonl\", \"wet\" or \"parquet\", not \
                 {other:?}"
            )));
        }
    })
}

/// The inputs at `paths`, walked as the command line walks them
/// ([`walk::collect`]), and the problems with paths: warnings for files
/// left out, errors for paths that could not be used (the others are still
/// read). `own` are the call's own files (index, output, stage files),
/// never read as input when met in a directory.
///
/// # Errors
///
/// The first error when no input at all could be used: a report of
/// nothing is no answer.
fn collect(
    paths: &[PathBuf],
    format: Option<Format>,
    own: &[&Path],
) -> Result<(Vec<Input>, Vec<Error>), Error> {
    let (found, problems) = collect_from(paths, None, format, own)?;
    Ok((
        found.into_iter().map(|(input, _)| input).collect(),
        problems,
    ))
}

/// The inputs a walk found, with where each came from, and the problems
/// with paths.
type Walked = (Vec<(Input, Origin)>, Vec<Error>);

/// As [`collect`], with where each input came from (which decides where
/// `clean` writes it). Relative paths are read from `base` when given (a
/// Ray worker whose working directory is not the driver's) and keep their
/// names as given, so reports and logs name them as the driver does.
fn collect_from(
    paths: &[PathBuf],
    base: Option<&Path>,
    format: Option<Format>,
    own: &[&Path],
) -> Result<Walked, Error> {
    let options = WalkOptions {
        format,
        exclude: own,
        base,
        ..WalkOptions::default()
    };
    let (found, mut problems) = walk::collect(paths, &options);
    if found.is_empty()
        && let Some(at) = problems.iter().position(|p| !p.is_warning())
    {
        return Err(problems.swap_remove(at));
    }
    Ok((found, problems))
}

/// The warnings among the problems with paths of a run that does not go
/// on past an unreadable path (an index add, which then adds nothing, as
/// `neardup index add`; a stage, whose shards must all see every input).
///
/// # Errors
///
/// The first error among `problems`.
fn only_warnings(problems: Vec<Error>) -> Result<Vec<Error>, Error> {
    let (errors, warnings): (Vec<Error>, Vec<Error>) =
        problems.into_iter().partition(|p| !p.is_warning());
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(warnings),
    }
}

/// A path argument as the operating system takes it: the bytes
/// `os.fsencode` makes of a `str`, `bytes` or path-like object (a file
/// name that is not UTF-8 comes from `os.listdir` as surrogate escapes and
/// goes back as its bytes).
///
/// # Errors
///
/// `UnicodeEncodeError` (a `ValueError`) for a string no file name can be,
/// one with a lone surrogate that is no escape, as `open` raises it: pyo3's
/// own conversion panics there. `TypeError` for what is not a path.
#[cfg(unix)]
fn fspath(ob: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let encoded = ob.py().import("os")?.call_method1("fsencode", (ob,))?;
    let bytes = encoded.cast::<PyBytes>()?.as_bytes();
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

/// A path argument: on this system pyo3's own conversion, which takes
/// any string.
#[cfg(not(unix))]
fn fspath(ob: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    ob.extract()
}

/// An optional path argument ([`fspath`]).
fn opt_fspath(ob: &Bound<'_, PyAny>) -> PyResult<Option<PathBuf>> {
    if ob.is_none() {
        Ok(None)
    } else {
        fspath(ob).map(Some)
    }
}

/// A list of path arguments ([`fspath`]); a lone string is refused, as
/// pyo3 refuses it for a list (it would be walked letter by letter).
fn fspaths(ob: &Bound<'_, PyAny>) -> PyResult<Vec<PathBuf>> {
    if ob.is_instance_of::<PyString>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "paths must be a list of paths, not a str",
        ));
    }
    ob.try_iter()?.map(|p| fspath(&p?)).collect()
}

/// `path`, read from `base` when it is relative.
fn resolve(base: Option<&Path>, path: &Path) -> PathBuf {
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

/// Runs `f` on `threads` worker threads (all cores when `None`).
fn with_threads<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    match threads {
        None => f(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(
                neardup::pipeline::thread_count(n)
                    .map_err(|e| Error::config(format!("threads: {}", e.message())))?,
            )
            .build()
            .map_err(|e| Error::config(format!("threads: {e}")))?
            .install(f),
    }
}

/// Opens the index at `path` for a run with `config` and `options`.
fn open_index(path: &Path, config: &Config, options: &ScanOptions) -> Result<Index, Error> {
    let index = Index::open(path)?;
    index
        .settings()
        .check(&Settings::of(config, options)?)
        .map_err(|e| Error::index(format!("{}: {}", path.display(), e.message())))?;
    Ok(index)
}

fn render_json(report: &Report) -> Result<String, Error> {
    let mut out = Vec::new();
    Json.render(report, &mut out)
        .map_err(|e| Error::config(format!("rendering the report: {e}")))?;
    String::from_utf8(out).map_err(|e| Error::config(e.to_string()))
}

/// `config`'s scan options for records' `text_field` and `id_field`, with
/// containment on when `threshold` is given (the keyword arguments
/// `containment`, `containment_words`, `containment_cap`), as
/// `--containment=T --containment-words N --containment-cap C` do.
fn containment_options(
    config: &PyConfig,
    (text_field, id_field): (&str, &str),
    threshold: Option<&str>,
    words: usize,
    cap: usize,
) -> PyResult<ScanOptions> {
    let mut options = config.options(text_field, id_field).map_err(py_err)?;
    let Some(t) = threshold else {
        return Ok(options);
    };
    let t: neardup::Threshold = t.parse().map_err(py_err)?;
    if cap < 2 {
        return Err(py_err(Error::config(format!(
            "the containment cap is at least 2 (paragraphs sharing a fingerprint), not {cap}"
        ))));
    }
    options.containment = Some(neardup::containment::find::Settings {
        threshold: (t.numerator(), t.denominator()),
        min_words: words,
        cap,
    });
    Ok(options)
}

/// The scan of `inputs`, against the index at `against` and with the
/// first pass from the stage files in `stage_dir` when given.
fn scan_files(
    inputs: &[Input],
    config: &Config,
    options: &ScanOptions,
    (against, stage_dir): (Option<&Path>, Option<&Path>),
) -> Result<Report, Error> {
    let index = against
        .map(|p| open_index(p, config, options))
        .transpose()?;
    let staged = stage_dir
        .map(|d| StageFiles::open(d, inputs, config, options, index.is_some()))
        .transpose()?;
    let verified = (staged.as_ref()).and_then(|s| s.verified_report(config));
    if let Some(report) = verified {
        return report;
    }
    let extras = Extras {
        prior: index.as_ref().map(|i| i as &dyn Prior),
        ..staged
            .as_ref()
            .map_or_else(Extras::default, StageFiles::extras)
    };
    scan_with(inputs, config, options, &Silent, extras)
}

/// `neardup scan PATHS [--against INDEX] --output-format json`: the report
/// as the command line writes it.
#[pyfunction]
#[pyo3(signature = (paths, config, *, input_format = None, text_field = "text", id_field = "id", threads = None, against = None, stage_dir = None, containment = None, containment_words = 25, containment_cap = 64))]
#[allow(clippy::too_many_arguments)]
fn scan_json(
    py: Python<'_>,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    #[pyo3(from_py_with = opt_fspath)] against: Option<PathBuf>,
    #[pyo3(from_py_with = opt_fspath)] stage_dir: Option<PathBuf>,
    containment: Option<&str>,
    containment_words: usize,
    containment_cap: usize,
) -> PyResult<String> {
    let format = format_of(input_format)?;
    let options = containment_options(
        config,
        (text_field, id_field),
        containment,
        containment_words,
        containment_cap,
    )?;
    let config = config.config.clone();
    py.detach(|| {
        with_threads(threads, || {
            let own: Vec<&Path> = against
                .iter()
                .chain(&stage_dir)
                .map(|p| p.as_path())
                .collect();
            let (inputs, problems) = collect(&paths, format, &own)?;
            let places = (against.as_deref(), stage_dir.as_deref());
            let mut report = scan_files(&inputs, &config, &options, places)?;
            if let Some(dir) = &stage_dir {
                // Left for the shard jobs of a spread clean, as `neardup
                // scan --stage-dir` leaves them.
                stage::write_findings(dir, &config, &options, against.as_deref(), &report)?;
            }
            report.diagnostics.splice(0..0, problems);
            render_json(&report)
        })
    })
    .map_err(py_err)
}

// The Arrow C data interface: the two structs a producer's capsules hold
// (https://arrow.apache.org/docs/format/CDataInterface.html).
#[repr(C)]
struct ArrowSchema {
    format: *const c_char,
    name: *const c_char,
    metadata: *const c_char,
    flags: i64,
    n_children: i64,
    children: *mut *mut ArrowSchema,
    dictionary: *mut ArrowSchema,
    release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    private_data: *mut c_void,
}

#[repr(C)]
struct ArrowArray {
    length: i64,
    null_count: i64,
    offset: i64,
    n_buffers: i64,
    n_children: i64,
    buffers: *mut *const c_void,
    children: *mut *mut ArrowArray,
    dictionary: *mut ArrowArray,
    release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    private_data: *mut c_void,
}

/// Appends each string of one Arrow array (`utf8` or `large_utf8`, as
/// `__arrow_c_array__` exports it) to `out` as a row, reading the array's
/// buffers in place; a null is an empty text.
fn append_arrow<'a>(
    schema: &'a Bound<'_, PyCapsule>,
    array: &'a Bound<'_, PyCapsule>,
    out: &mut Vec<&'a [u8]>,
) -> PyResult<()> {
    let schema = schema
        .pointer_checked(Some(c"arrow_schema"))?
        .cast::<ArrowSchema>();
    let array = array
        .pointer_checked(Some(c"arrow_array"))?
        .cast::<ArrowArray>();
    // SAFETY: the capsules hold a live ArrowSchema and ArrowArray (the
    // names are checked), valid while the capsules are, and released by
    // the capsules' destructors, not here.
    let (schema, array) = unsafe { (schema.as_ref(), array.as_ref()) };
    // SAFETY: `format` is a NUL-terminated string by the interface.
    let format = unsafe { CStr::from_ptr(schema.format) }.to_string_lossy();
    let large = match format.as_ref() {
        "u" => false,
        "U" => true,
        other => {
            return Err(ConfigError::new_err(format!(
                "dedup reads a column of strings (Arrow utf8 or large_utf8), not Arrow format \
                 {other:?}"
            )));
        }
    };
    if array.n_buffers != 3 || array.length < 0 || array.offset < 0 {
        return Err(NeardupError::new_err(
            "an Arrow string array without its three buffers",
        ));
    }
    let (len, offset) = (array.length as usize, array.offset as usize);
    // SAFETY: a string array has three buffers: validity (may be null),
    // offsets (offset + length + 1 of them), data.
    let (validity, offsets, data) = unsafe {
        let b = std::slice::from_raw_parts(array.buffers, 3);
        (b[0].cast::<u8>(), b[1], b[2].cast::<u8>())
    };
    let at = |i: usize| -> usize {
        // SAFETY: i <= offset + length, within the offsets buffer.
        unsafe {
            if large {
                *offsets.cast::<i64>().add(i) as usize
            } else {
                *offsets.cast::<i32>().add(i) as usize
            }
        }
    };
    for row in 0..len {
        let i = offset + row;
        // SAFETY: the validity bitmap, when present, has a bit per slot.
        let valid = validity.is_null() || unsafe { *validity.add(i / 8) } & (1 << (i % 8)) != 0;
        let bytes: &[u8] = if valid {
            let (start, end) = (at(i), at(i + 1));
            if end < start {
                return Err(NeardupError::new_err(
                    "an Arrow string array with bad offsets",
                ));
            }
            // SAFETY: offsets index the data buffer.
            unsafe { std::slice::from_raw_parts(data.add(start), end - start) }
        } else {
            &[]
        };
        out.push(bytes);
    }
    Ok(())
}

/// `dedup`'s rows as one JSON Lines input (a record holding each row's
/// text), and each row's paragraph count (counted as the scan cuts them,
/// while the text is at hand); made in parallel, a few thousand rows at a
/// time, then joined. The error is the first row that is not UTF-8.
fn rows_jsonl(
    rows: &[&[u8]],
    mode: ParagraphMode,
) -> Result<(Vec<u8>, Vec<u32>), (usize, std::str::Utf8Error)> {
    const ROWS: usize = 4096;
    let pieces = rows
        .par_chunks(ROWS)
        .enumerate()
        .map(|(chunk, rows)| {
            let bytes: usize = rows.iter().map(|r| r.len() + 12).sum();
            let (mut jsonl, mut counts) =
                (Vec::with_capacity(bytes), Vec::with_capacity(rows.len()));
            for (i, &row) in rows.iter().enumerate() {
                let text = std::str::from_utf8(row).map_err(|e| (chunk * ROWS + i, e))?;
                jsonl.extend_from_slice(b"{\"text\":");
                serde_json::to_writer(&mut jsonl, text).expect("writing to a vector");
                jsonl.extend_from_slice(b"}\n");
                counts.push(paragraphs(row, mode).count() as u32);
            }
            Ok((jsonl, counts))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total = pieces.iter().map(|p| p.0.len()).sum();
    let (mut jsonl, mut counts) = (Vec::with_capacity(total), Vec::with_capacity(rows.len()));
    for (j, c) in pieces {
        jsonl.extend_from_slice(&j);
        counts.extend_from_slice(&c);
    }
    Ok((jsonl, counts))
}

/// Deduplicates rows of text — Arrow string arrays (`chunks`, each the
/// pair of capsules `__arrow_c_array__` gives) or Python strings
/// (`texts`) — as one JSON Lines input of one record per row (no id: a
/// record is named by its line, the row + 1): the command line's verdicts
/// on that text, per paragraph and per row, and optionally each row's text
/// as `clean` writes it.
#[pyfunction]
#[pyo3(signature = (config, *, chunks = None, texts = None, threads = None, against = None, cleaned = false, report = false))]
#[allow(clippy::too_many_arguments)]
fn dedup_rows<'py>(
    py: Python<'py>,
    config: &PyConfig,
    chunks: Option<Vec<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)>>,
    texts: Option<Vec<Option<String>>>,
    threads: Option<usize>,
    #[pyo3(from_py_with = opt_fspath)] against: Option<PathBuf>,
    cleaned: bool,
    report: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let mode = config.config.paragraphs();
    let mut rows: Vec<&[u8]> = Vec::new();
    for (schema, array) in chunks.iter().flatten() {
        append_arrow(schema, array, &mut rows)?;
    }
    for t in texts.iter().flatten() {
        rows.push(t.as_deref().unwrap_or("").as_bytes());
    }
    let options = config.options("text", "id").map_err(py_err)?;
    let config = config.config.clone();
    let done = py
        .detach(|| {
            with_threads(threads, || {
                let (jsonl, counts) = match rows_jsonl(&rows, mode) {
                    Ok(made) => made,
                    Err((row, e)) => return Ok(Err(format!("row {row}: not valid UTF-8 ({e})"))),
                };
                let input = Input::new(MemorySource::new("<rows>", &jsonl), Format::Jsonl);
                let inputs = [input];
                let index = against
                    .as_deref()
                    .map(|p| open_index(p, &config, &options))
                    .transpose()?;
                let extras = Extras {
                    prior: index.as_ref().map(|i| i as &dyn Prior),
                    ..Extras::default()
                };
                let scanned = scan_with(&inputs, &config, &options, &Silent, extras)?;
                if let Some(e) = scanned.diagnostics.iter().find(|d| !d.is_warning()) {
                    return Err(Error::config(e.to_string()));
                }
                let verdicts = Verdicts::of(&scanned, counts);
                let texts = if cleaned {
                    Some(clean_rows(&scanned, &inputs, mode)?)
                } else {
                    None
                };
                let json = if report {
                    Some(render_json(&scanned)?)
                } else {
                    None
                };
                Ok(Ok((verdicts, texts, json)))
            })
        })
        .map_err(py_err)?;
    let (v, texts, json) = done.map_err(InputError::new_err)?;
    let d = PyDict::new(py);
    d.set_item("keep", v.keep)?;
    d.set_item("duplicate_of", v.duplicate_of)?;
    d.set_item("similarity", v.similarity)?;
    d.set_item("paragraphs", v.paragraphs)?;
    d.set_item("removed", v.removed)?;
    let p = PyDict::new(py);
    p.set_item("row", v.pairs.row)?;
    p.set_item("paragraph", v.pairs.paragraph)?;
    p.set_item("start", v.pairs.start)?;
    p.set_item("end", v.pairs.end)?;
    p.set_item("kept_row", v.pairs.kept_row)?;
    p.set_item("kept_paragraph", v.pairs.kept_paragraph)?;
    p.set_item("kept_start", v.pairs.kept_start)?;
    p.set_item("kept_end", v.pairs.kept_end)?;
    p.set_item("kept_batch", v.pairs.kept_batch)?;
    p.set_item("kept_path", v.pairs.kept_path)?;
    p.set_item("similarity", v.pairs.similarity)?;
    p.set_item("kind", v.pairs.kind)?;
    d.set_item("pairs", p)?;
    if let Some(texts) = texts {
        d.set_item("cleaned", PyList::new(py, texts)?)?;
    }
    if let Some(json) = json {
        d.set_item("report", json)?;
    }
    Ok(d)
}

/// Per flagged paragraph, as columns.
#[derive(Default)]
struct Pairs {
    row: Vec<u64>,
    paragraph: Vec<u32>,
    start: Vec<u64>,
    end: Vec<u64>,
    kept_row: Vec<Option<u64>>,
    kept_paragraph: Vec<u32>,
    kept_start: Vec<u64>,
    kept_end: Vec<u64>,
    kept_batch: Vec<Option<String>>,
    kept_path: Vec<String>,
    similarity: Vec<f64>,
    kind: Vec<&'static str>,
}

/// What `dedup` returns per row and per flagged paragraph.
struct Verdicts {
    keep: Vec<bool>,
    duplicate_of: Vec<Option<u64>>,
    similarity: Vec<Option<f64>>,
    paragraphs: Vec<u32>,
    removed: Vec<u32>,
    pairs: Pairs,
}

impl Verdicts {
    /// The verdicts of `report` on rows of `counts` paragraphs each.
    fn of(report: &Report, counts: Vec<u32>) -> Verdicts {
        let n = counts.len();
        let mut first: Vec<Option<(u64, f64)>> = vec![None; n];
        let mut min_sim: Vec<Option<f64>> = vec![None; n];
        let mut removed = vec![0u32; n];
        let mut pairs = Pairs::default();
        let mut flagged: Vec<(u64, u32, usize, usize)> = Vec::new();
        for (c, cluster) in report.clusters.iter().enumerate() {
            for (d, dup) in cluster.duplicates.iter().enumerate() {
                let l = &dup.member.location;
                flagged.push((l.line, l.paragraph, c, d));
            }
        }
        // In input order, as the report's paragraphs are.
        flagged.sort_unstable();
        for (_, _, c, d) in flagged {
            let cluster = &report.clusters[c];
            let dup = &cluster.duplicates[d];
            let (at, kept) = (&dup.member.location, &cluster.kept.location);
            let row = at.line - 1;
            let kept_row = kept.batch.is_none().then(|| kept.line - 1);
            let sim = dup.similarity.as_f64();
            let r = row as usize;
            removed[r] += 1;
            if first[r].is_none() {
                first[r] = Some((kept_row.unwrap_or(u64::MAX), sim));
            }
            min_sim[r] = Some(min_sim[r].map_or(sim, |m: f64| m.min(sim)));
            pairs.row.push(row);
            pairs.paragraph.push(at.paragraph);
            pairs.start.push(at.start);
            pairs.end.push(at.end);
            pairs.kept_row.push(kept_row);
            pairs.kept_paragraph.push(kept.paragraph);
            pairs.kept_start.push(kept.start);
            pairs.kept_end.push(kept.end);
            pairs
                .kept_batch
                .push(kept.batch.as_deref().map(str::to_owned));
            pairs.kept_path.push(kept.path.to_string());
            pairs.similarity.push(sim);
            pairs.kind.push(dup.kind.as_str());
        }
        let keep: Vec<bool> = (0..n)
            .map(|r| !(counts[r] > 0 && removed[r] == counts[r]))
            .collect();
        let duplicate_of = (0..n)
            .map(|r| {
                first[r]
                    .filter(|_| !keep[r])
                    .and_then(|(k, _)| (k != u64::MAX).then_some(k))
            })
            .collect();
        let similarity = (0..n)
            .map(|r| if keep[r] { None } else { min_sim[r] })
            .collect();
        Verdicts {
            keep,
            duplicate_of,
            similarity,
            paragraphs: counts,
            removed,
            pairs,
        }
    }
}

/// Each row's text without its removed paragraphs, as `clean` writes it.
fn clean_rows(
    report: &Report,
    inputs: &[Input],
    mode: ParagraphMode,
) -> Result<Vec<String>, Error> {
    let removals = Removals::new(report, inputs);
    let options = CleanOptions {
        paragraphs: mode,
        fields: JsonlFields::default(),
        drop_empty: false,
    };
    let mut out: Vec<u8> = Vec::new();
    rewrite::rewrite(
        &inputs[0],
        InputId::new(0),
        &removals,
        &options,
        &mut out,
        |_| Ok(()),
    )?;
    out.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            serde_json::from_slice::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
                .ok_or_else(|| Error::config("a cleaned row that is not a record"))
        })
        .collect()
}

/// What an index add did, for Python.
fn added_dict<'py>(py: Python<'py>, added: &index::Added) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("batch", &added.batch)?;
    d.set_item("stored", added.stored)?;
    d.set_item("duplicates", added.report.summary.duplicate_paragraphs)?;
    d.set_item("against_index", added.against_index)?;
    d.set_item("total_paragraphs", added.total_paragraphs)?;
    d.set_item("batches", added.batches)?;
    d.set_item("generation", added.generation)?;
    d.set_item("report", render_json(&added.report).map_err(py_err)?)?;
    Ok(d)
}

/// `neardup index create` (with `create`) or `index add`.
#[pyfunction]
#[pyo3(signature = (index, paths, config, *, create = false, name = None, force = false, created = 0, input_format = None, text_field = "text", id_field = "id", threads = None, skip_bad_records = false))]
#[allow(clippy::too_many_arguments)]
fn index_add<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = fspath)] index: PathBuf,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    create: bool,
    name: Option<String>,
    force: bool,
    created: i64,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    skip_bad_records: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let format = format_of(input_format)?;
    let mut options = config.options(text_field, id_field).map_err(py_err)?;
    // The report goes back as JSON, which carries no snippets: without
    // them the batch is read once, as `neardup index add` reads it.
    options.snippets = false;
    let config = config.config.clone();
    let added = py
        .detach(|| {
            with_threads(threads, || {
                let (inputs, problems) = collect(&paths, format, &[index.as_path()])?;
                let warnings = only_warnings(problems)?;
                let add = AddOptions {
                    name,
                    created,
                    force,
                    skip_bad_records,
                };
                let made_dir = create && index::create(&index, &config, &options, None)?;
                let added = index::add(&index, &inputs, &config, &options, &Silent, &add);
                if create && added.is_err() {
                    index::remove_new(&index, made_dir);
                }
                let mut added = added?;
                added.report.diagnostics.splice(0..0, warnings);
                Ok(added)
            })
        })
        .map_err(py_err)?;
    added_dict(py, &added)
}

/// What every stage binding does around its stage: the settings checked,
/// then, without the GIL and on `threads`, the scan's inputs collected and
/// `work` run on them.
fn run_stage<T: Send>(
    py: Python<'_>,
    (paths, dir): (&[PathBuf], &Path),
    config: &PyConfig,
    (input_format, text_field, id_field): (Option<&str>, &str, &str),
    threads: Option<usize>,
    (containment, containment_words, containment_cap): (Option<&str>, usize, usize),
    work: impl FnOnce(&[Input], &Path, &Config, &ScanOptions) -> Result<T, Error> + Send,
) -> PyResult<T> {
    let format = format_of(input_format)?;
    let options = containment_options(
        config,
        (text_field, id_field),
        containment,
        containment_words,
        containment_cap,
    )?;
    let config = config.config.clone();
    py.detach(|| {
        with_threads(threads, || {
            let (inputs, problems) = collect(paths, format, &[dir])?;
            only_warnings(problems)?;
            work(&inputs, dir, &config, &options)
        })
    })
    .map_err(py_err)
}

/// The fingerprint stage of shard `shard` of `shards` of the inputs at
/// `paths` (all of them, as the last stage gets them), into `dir`
/// (`neardup stage fingerprint`). Returns (first input, end, inputs with
/// prints, bytes written).
#[pyfunction]
#[pyo3(signature = (paths, config, shard, shards, dir, *, input_format = None, text_field = "text", id_field = "id", threads = None, containment = None, containment_words = 25, containment_cap = 64))]
#[allow(clippy::too_many_arguments)]
fn stage_fingerprint(
    py: Python<'_>,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    shard: usize,
    shards: usize,
    #[pyo3(from_py_with = fspath)] dir: PathBuf,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    containment: Option<&str>,
    containment_words: usize,
    containment_cap: usize,
) -> PyResult<(usize, usize, usize, u64)> {
    if shards == 0 || shard >= shards {
        return Err(ConfigError::new_err(format!(
            "shard {shard} of {shards}: the shard must be below the number of shards"
        )));
    }
    run_stage(
        py,
        (&paths, &dir),
        config,
        (input_format, text_field, id_field),
        threads,
        (containment, containment_words, containment_cap),
        |inputs, dir, config, options| {
            let sizes: Vec<Option<u64>> = inputs.iter().map(|i| i.source.size_hint()).collect();
            let range = stage::shard(&sizes, shard, shards);
            let done = stage::fingerprint_shard(
                &inputs[range.clone()],
                range.start,
                config,
                options,
                &Silent,
                dir,
            )?;
            Ok((range.start, range.end, done.printed, done.bytes))
        },
    )
}

/// The group stage of a spread scan, part `part` of `parts` of the band
/// keys (`neardup stage group`), after every shard's fingerprint stage.
/// Returns (band keys read, candidate groups, places in them (a bound on
/// the candidates), bytes written).
#[pyfunction]
#[pyo3(signature = (paths, config, part, parts, dir, *, input_format = None, text_field = "text", id_field = "id", threads = None, containment = None, containment_words = 25, containment_cap = 64))]
#[allow(clippy::too_many_arguments)]
fn stage_group(
    py: Python<'_>,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    part: usize,
    parts: usize,
    #[pyo3(from_py_with = fspath)] dir: PathBuf,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    containment: Option<&str>,
    containment_words: usize,
    containment_cap: usize,
) -> PyResult<(u64, u64, u64, u64)> {
    run_stage(
        py,
        (&paths, &dir),
        config,
        (input_format, text_field, id_field),
        threads,
        (containment, containment_words, containment_cap),
        |inputs, dir, config, options| {
            let done = stage::group::group_part(dir, inputs, config, options, part, parts)?;
            Ok((done.entries, done.runs, done.members, done.bytes))
        },
    )
}

/// The components stage of a spread verification (`neardup stage
/// components`), one process after every part's group stage: joins the
/// candidate groups into components and deals them to `parts` parts,
/// writing each shard's assignment and each part's runs into `dir`.
/// Returns (candidates, components, the largest's candidates, bytes
/// written).
#[pyfunction]
#[pyo3(signature = (paths, config, parts, dir, *, input_format = None, text_field = "text", id_field = "id", threads = None, containment = None, containment_words = 25, containment_cap = 64))]
#[allow(clippy::too_many_arguments)]
fn stage_components(
    py: Python<'_>,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    parts: usize,
    #[pyo3(from_py_with = fspath)] dir: PathBuf,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    containment: Option<&str>,
    containment_words: usize,
    containment_cap: usize,
) -> PyResult<(u64, u64, u64, u64)> {
    run_stage(
        py,
        (&paths, &dir),
        config,
        (input_format, text_field, id_field),
        threads,
        (containment, containment_words, containment_cap),
        |inputs, dir, config, options| {
            let done = stage::components::components(dir, inputs, config, options, parts)?;
            Ok((done.candidates, done.components, done.largest, done.bytes))
        },
    )
}

/// One task's round of the components stage in rounds (`neardup stage
/// star --round`): round 0 reads the task's share of the group files,
/// later rounds the round before's links. Returns (links in, links out,
/// whether its input was settled, bytes written): when every task of a
/// round says settled, finish after that round.
#[pyfunction]
#[pyo3(signature = (paths, config, round, task, tasks, dir, *, input_format = None, text_field = "text", id_field = "id", threads = None, containment = None, containment_words = 25, containment_cap = 64))]
#[allow(clippy::too_many_arguments)]
fn stage_star_round(
    py: Python<'_>,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    round: usize,
    task: usize,
    tasks: usize,
    #[pyo3(from_py_with = fspath)] dir: PathBuf,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    containment: Option<&str>,
    containment_words: usize,
    containment_cap: usize,
) -> PyResult<(u64, u64, bool, u64)> {
    run_stage(
        py,
        (&paths, &dir),
        config,
        (input_format, text_field, id_field),
        threads,
        (containment, containment_words, containment_cap),
        |inputs, dir, config, options| {
            let done = stage::star::round(dir, inputs, config, options, round, task, tasks)?;
            Ok((done.edges_in, done.edges_out, done.stars, done.bytes))
        },
    )
}

/// One task's finish of the components stage in rounds (`neardup stage
/// star --finish`), after the round that converged: deals the components
/// to `parts` parts and writes the task's dealt file. Returns
/// (candidates, components centred here, the largest's candidates, bytes
/// written).
#[pyfunction]
#[pyo3(signature = (paths, config, round, task, tasks, parts, dir, *, input_format = None, text_field = "text", id_field = "id", threads = None, containment = None, containment_words = 25, containment_cap = 64))]
#[allow(clippy::too_many_arguments)]
fn stage_star_finish(
    py: Python<'_>,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    round: usize,
    task: usize,
    tasks: usize,
    parts: usize,
    #[pyo3(from_py_with = fspath)] dir: PathBuf,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    containment: Option<&str>,
    containment_words: usize,
    containment_cap: usize,
) -> PyResult<(u64, u64, u64, u64)> {
    run_stage(
        py,
        (&paths, &dir),
        config,
        (input_format, text_field, id_field),
        threads,
        (containment, containment_words, containment_cap),
        |inputs, dir, config, options| {
            let done =
                stage::star::finish(dir, inputs, config, options, round, (task, tasks), parts)?;
            Ok((done.candidates, done.components, done.largest, done.bytes))
        },
    )
}

/// The reread stage of shard `shard` of `shards` (the fingerprint stage's
/// numbering) of a spread verification (`neardup stage reread`), after
/// the components stage: reads the shard's candidates again and writes
/// its sets file into `dir`. Returns (first input, end, candidates read
/// again, bytes written).
#[pyfunction]
#[pyo3(signature = (paths, config, shard, shards, dir, *, input_format = None, text_field = "text", id_field = "id", threads = None, containment = None, containment_words = 25, containment_cap = 64))]
#[allow(clippy::too_many_arguments)]
fn stage_reread(
    py: Python<'_>,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    shard: usize,
    shards: usize,
    #[pyo3(from_py_with = fspath)] dir: PathBuf,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    containment: Option<&str>,
    containment_words: usize,
    containment_cap: usize,
) -> PyResult<(usize, usize, u64, u64)> {
    if shards == 0 || shard >= shards {
        return Err(ConfigError::new_err(format!(
            "shard {shard} of {shards}: the shard must be below the number of shards"
        )));
    }
    run_stage(
        py,
        (&paths, &dir),
        config,
        (input_format, text_field, id_field),
        threads,
        (containment, containment_words, containment_cap),
        |inputs, dir, config, options| {
            let done =
                stage::verdicts::reread(dir, inputs, config, options, &Silent, (shard, shards))?;
            let (start, end) = (done.inputs.start, done.inputs.end);
            Ok((start, end, done.candidates, done.bytes))
        },
    )
}

/// The verify stage of part `part` of `parts` (the components stage's
/// count) of a spread verification (`neardup stage verify`), after every
/// shard's reread stage: verifies the part's components and writes its
/// verdicts into `dir`; once every part has, the last stage reports from
/// them. Returns (candidates verified, duplicates, bytes written).
#[pyfunction]
#[pyo3(signature = (paths, config, part, parts, dir, *, input_format = None, text_field = "text", id_field = "id", threads = None, containment = None, containment_words = 25, containment_cap = 64))]
#[allow(clippy::too_many_arguments)]
fn stage_verify(
    py: Python<'_>,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    part: usize,
    parts: usize,
    #[pyo3(from_py_with = fspath)] dir: PathBuf,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    containment: Option<&str>,
    containment_words: usize,
    containment_cap: usize,
) -> PyResult<(u64, u64, u64)> {
    run_stage(
        py,
        (&paths, &dir),
        config,
        (input_format, text_field, id_field),
        threads,
        (containment, containment_words, containment_cap),
        |inputs, dir, config, options| {
            let done = stage::verdicts::verify(dir, inputs, config, options, part, parts)?;
            Ok((done.candidates, done.duplicates, done.bytes))
        },
    )
}

/// `neardup clean PATHS -o OUTPUT`: the inputs written without their
/// duplicate paragraphs, laid out as the command line lays them out.
/// With `shard`/`shards`, only that shard's inputs, with the findings the
/// last stage left in `stage_dir` (no scan): the shard jobs of a spread
/// clean. With `removed`, the removal log is written there. Returns the
/// counts, the shard's inputs, and the inputs that could not be written
/// (their errors; the others are still written).
#[pyfunction]
#[pyo3(signature = (paths, config, output, *, input_format = None, text_field = "text", id_field = "id", threads = None, against = None, stage_dir = None, shard = None, shards = None, base_dir = None, containment = None, containment_words = 25, containment_cap = 64, remove_contained = false, drop_empty = false, removed = None))]
#[allow(clippy::too_many_arguments)]
fn clean<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = fspaths)] paths: Vec<PathBuf>,
    config: &PyConfig,
    #[pyo3(from_py_with = fspath)] output: PathBuf,
    input_format: Option<&str>,
    text_field: &str,
    id_field: &str,
    threads: Option<usize>,
    #[pyo3(from_py_with = opt_fspath)] against: Option<PathBuf>,
    #[pyo3(from_py_with = opt_fspath)] stage_dir: Option<PathBuf>,
    shard: Option<usize>,
    shards: Option<usize>,
    #[pyo3(from_py_with = opt_fspath)] base_dir: Option<PathBuf>,
    containment: Option<&str>,
    containment_words: usize,
    containment_cap: usize,
    remove_contained: bool,
    drop_empty: bool,
    #[pyo3(from_py_with = opt_fspath)] removed: Option<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let format = format_of(input_format)?;
    // As `clean --remove contained`: containment at 0.8 unless told.
    let containment = match (containment, remove_contained) {
        (Some(t), true) => Some(t),
        (None, true) => Some("0.8"),
        (Some(_), false) => {
            return Err(ConfigError::new_err(
                "containment on clean only says how to find what remove_contained=True \
                 removes; add remove_contained=True",
            ));
        }
        (None, false) => None,
    };
    let options = containment_options(
        config,
        (text_field, id_field),
        containment,
        containment_words,
        containment_cap,
    )?;
    let config = config.config.clone();
    let part = match (shard, shards, &stage_dir) {
        (None, None, _) => None,
        (Some(k), Some(n), Some(_)) if k < n => Some((k, n)),
        (Some(k), Some(n), Some(_)) => {
            return Err(ConfigError::new_err(format!(
                "shard {k} of {n}: the shard must be below the number of shards"
            )));
        }
        _ => {
            return Err(ConfigError::new_err(
                "shard and shards go together, with stage_dir (where the last stage left its \
                 findings)",
            ));
        }
    };
    let done = py
        .detach(|| {
            with_threads(threads, || {
                let own: Vec<&Path> = [&output]
                    .into_iter()
                    .chain(&removed)
                    .chain(&against)
                    .chain(&stage_dir)
                    .map(|p| p.as_path())
                    .collect();
                let (found, problems) = collect_from(&paths, base_dir.as_deref(), format, &own)?;
                let (inputs, origins): (Vec<Input>, Vec<Origin>) = found.into_iter().unzip();
                let targets = rewrite::target::plan(&output, &origins).map_err(Error::config)?;
                refuse_inputs(
                    &paths,
                    (&targets, &origins),
                    removed.as_deref(),
                    base_dir.as_deref(),
                )?;
                let base = base_dir.as_deref();
                let written = [resolve(base, &output)]
                    .into_iter()
                    .chain(removed.as_deref().map(|p| resolve(base, p)));
                let index = against.as_deref().map(|p| resolve(base, p));
                rewrite::target::refuse_index(
                    written.collect::<Vec<_>>().iter().map(PathBuf::as_path),
                    index.as_deref(),
                )
                .map_err(Error::config)?;
                let (report, unreadable, range) = match part {
                    Some((k, n)) => {
                        let dir = stage_dir.as_deref().expect("checked above");
                        let sizes: Vec<Option<u64>> =
                            inputs.iter().map(|i| i.source.size_hint()).collect();
                        let part = stage::shard(&sizes, k, n);
                        let (report, unreadable) = stage::read_findings(
                            dir,
                            &inputs,
                            &config,
                            &options,
                            against.as_deref(),
                            part.clone(),
                        )?;
                        (report, unreadable, part)
                    }
                    None => {
                        let places = (against.as_deref(), stage_dir.as_deref());
                        let report = scan_files(&inputs, &config, &options, places)?;
                        let unreadable = report
                            .diagnostics
                            .iter()
                            .filter(|d| d.kind() == ErrorKind::Io)
                            .filter_map(|d| d.path().map(str::to_owned))
                            .collect();
                        let range = 0..inputs.len();
                        (report, unreadable, range)
                    }
                };
                let removals = Removals::new(&report, &inputs);
                let removals = if remove_contained {
                    removals.with_contained(&report.contained)
                } else {
                    removals
                };
                let clean_options = CleanOptions {
                    paragraphs: config.paragraphs(),
                    fields: options.fields.clone(),
                    drop_empty,
                };
                let order: Vec<usize> = range
                    .clone()
                    .filter(|&i| !unreadable.iter().any(|u| u == inputs[i].source.name()))
                    .collect();
                let results: Vec<Result<(Stats, Vec<u8>), Error>> = {
                    use rayon::prelude::*;
                    order
                        .par_iter()
                        .map(|&i| {
                            clean_file(
                                &inputs[i],
                                InputId::new(i as u32),
                                &targets[i],
                                (&removals, &clean_options),
                                base_dir.as_deref(),
                                removed.is_some(),
                            )
                        })
                        .collect()
                };
                let mut totals = Stats::default();
                let (mut log, mut failed) = (Vec::new(), Vec::new());
                for result in results {
                    match result {
                        Ok((stats, lines)) => {
                            totals += &stats;
                            log.extend_from_slice(&lines);
                        }
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                if let Some(path) = &removed {
                    let path = resolve(base_dir.as_deref(), path);
                    write_staged(&path, &path.display().to_string(), |out| {
                        use std::io::Write as _;
                        out.write_all(&log)
                    })?;
                }
                let written = order.len() - failed.len();
                // The paths that could not be used are inputs not written
                // too, and come first in the report, as in the command's.
                let unusable = problems.iter().filter(|p| !p.is_warning());
                failed.splice(0..0, unusable.map(Error::to_string));
                let mut report = report;
                report.diagnostics.splice(0..0, problems);
                let report_json = match part {
                    Some(_) => None,
                    None => Some(render_json(&report)?),
                };
                Ok((totals, written, failed, range, report_json))
            })
        })
        .map_err(py_err)?;
    let (totals, written, failed, range, report_json) = done;
    let d = PyDict::new(py);
    d.set_item("written", written)?;
    d.set_item("removed", totals.removed)?;
    d.set_item("dropped", totals.dropped)?;
    d.set_item("emptied", totals.emptied)?;
    d.set_item("bytes_in", totals.bytes_in)?;
    d.set_item("bytes_out", totals.bytes_out)?;
    d.set_item("errors", failed)?;
    d.set_item("inputs", (range.start, range.end))?;
    d.set_item("report", report_json)?;
    Ok(d)
}

/// Cleans one input into its target file: written under a temporary name
/// in the target's directory, synced, renamed into place and the
/// directory synced; a plain text input whose every paragraph went (with
/// `drop_empty`) is not written. Returns its counts and, when `logged`,
/// its lines of the removal log.
fn clean_file(
    input: &Input,
    id: InputId,
    target: &Target,
    (removals, options): (&Removals<'_>, &CleanOptions),
    base: Option<&Path>,
    logged: bool,
) -> Result<(Stats, Vec<u8>), Error> {
    let Target::File { path, compression } = target else {
        return Err(Error::config(
            "the Python package writes files: give output a file or directory, not \"-\"",
        ));
    };
    let path = resolve(base, path);
    let mut lines = Vec::new();
    let mut stats = Stats::default();
    let keep = write_staged(&path, &path.display().to_string(), |out| {
        let name = path.display().to_string();
        let (s, _) = rewrite::clean_input(
            input,
            id,
            removals,
            options,
            *compression,
            (&mut *out, &name),
            logged.then_some(&mut lines),
        )
        .map_err(|e| std::io::Error::other(e.to_string()))?;
        stats = s;
        Ok(())
    })
    .map(|()| !(input.format == Format::Text && stats.dropped > 0));
    match keep {
        Ok(true) => Ok((stats, lines)),
        Ok(false) => {
            let _ = std::fs::remove_file(&path);
            Ok((stats, lines))
        }
        Err(e) => Err(e),
    }
}

/// Writes `path` crash-safely: a temporary file in its directory (created
/// if need be), synced, renamed into place, the directory synced. A
/// failure leaves no file under the final name and removes the temporary
/// one.
fn write_staged(
    path: &Path,
    name: &str,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |e: std::io::Error| Error::io(name, e);
    std::fs::create_dir_all(&dir).map_err(io)?;
    let temp = dir.join(format!(
        ".{}.{}.{}.neardup-tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        write(&mut file)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io)
}

/// Refuses a plan that would write over an input or into an input
/// directory (a later run would read the output as input), as the command
/// line does, with every path read from `base` when given.
fn refuse_inputs(
    paths: &[PathBuf],
    (targets, origins): (&[Target], &[Origin]),
    removed: Option<&Path>,
    base: Option<&Path>,
) -> Result<(), Error> {
    let from_base = |p: &PathBuf| resolve(base, p);
    let origins: Vec<Origin> = origins
        .iter()
        .map(|o| match o {
            Origin::File {
                path,
                root,
                relative,
            } => Origin::File {
                path: from_base(path),
                root: root.as_ref().map(from_base),
                relative: relative.clone(),
            },
            Origin::Stdin => Origin::Stdin,
        })
        .collect();
    let outputs: Vec<PathBuf> = targets
        .iter()
        .filter_map(|t| match t {
            Target::File { path, .. } => Some(from_base(path)),
            Target::Stdout => None,
        })
        .chain(removed.map(|p| resolve(base, p)))
        .collect();
    let paths: Vec<PathBuf> = paths.iter().map(from_base).collect();
    rewrite::target::refuse_inputs(outputs.iter().map(PathBuf::as_path), &paths, &origins)
        .map_err(Error::config)
}

/// A new, empty index in `index` for `config` (`Index.create`), with
/// containment fingerprints for `containment_words`. Unless `config` was
/// given a banding, the index takes the fewest bands that keep the
/// guarantee at its threshold, as `neardup index create` does; returns
/// the settings it was made with.
#[pyfunction]
#[pyo3(signature = (index, config, containment_words = None))]
fn index_create(
    #[pyo3(from_py_with = fspath)] index: PathBuf,
    config: &PyConfig,
    containment_words: Option<usize>,
) -> PyResult<PyConfig> {
    let made = PyConfig {
        config: config.builder.clone().for_index().build().map_err(py_err)?,
        ..config.clone()
    };
    let options = made.options("text", "id").map_err(py_err)?;
    index::create(&index, &made.config, &options, containment_words).map_err(py_err)?;
    Ok(made)
}

/// The detection settings an index was made with, as a `Config` (without
/// an allowlist: the index keeps only its hash).
#[pyfunction]
fn index_config(#[pyo3(from_py_with = fspath)] index: PathBuf) -> PyResult<PyConfig> {
    let opened = Index::open(&index).map_err(py_err)?;
    let config = opened
        .settings()
        .config()
        .map_err(|e| IndexFileError::new_err(format!("{}: {e}", index.display())))?;
    let threshold = config.threshold();
    Ok(PyConfig {
        threshold: threshold.to_string(),
        builder: config.to_builder(),
        config,
        allow_paragraphs: Vec::new(),
        allow_patterns: Vec::new(),
    })
}

/// `neardup index info --output-format json`, as a dict.
#[pyfunction]
fn index_info<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = fspath)] index: PathBuf,
) -> PyResult<Bound<'py, PyDict>> {
    let opened = Index::open(&index).map_err(py_err)?;
    let d = PyDict::new(py);
    d.set_item("generation", opened.generation())?;
    d.set_item("paragraphs", opened.paragraphs())?;
    d.set_item("variants", opened.variant_count())?;
    d.set_item("segments", opened.segments())?;
    d.set_item("bytes", opened.bytes())?;
    let settings = PyDict::new(py);
    for (k, v) in opened.settings().pairs() {
        settings.set_item(k, v)?;
    }
    d.set_item("settings", settings)?;
    let batches = PyList::empty(py);
    for b in opened.batches().map_err(py_err)? {
        let bd = PyDict::new(py);
        bd.set_item("name", b.name)?;
        bd.set_item("created", b.created)?;
        bd.set_item("paragraphs", b.paragraphs)?;
        bd.set_item("variants", b.variants)?;
        batches.append(bd)?;
    }
    d.set_item("batches", batches)?;
    let files = PyList::empty(py);
    for f in opened.segment_files() {
        let fd = PyDict::new(py);
        fd.set_item("name", f.name)?;
        fd.set_item("bytes", f.bytes)?;
        fd.set_item("rows", f.rows)?;
        fd.set_item("variants", f.variants)?;
        fd.set_item("version", f.version)?;
        files.append(fd)?;
    }
    d.set_item("segment_files", files)?;
    Ok(d)
}

/// `neardup index verify`: raises on the first problem.
#[pyfunction]
fn index_verify(py: Python<'_>, #[pyo3(from_py_with = fspath)] index: PathBuf) -> PyResult<()> {
    py.detach(|| Index::open(&index)?.verify()).map_err(py_err)
}

/// `neardup index rollback`: the new generation.
#[pyfunction]
fn index_rollback(py: Python<'_>, #[pyo3(from_py_with = fspath)] index: PathBuf) -> PyResult<u64> {
    py.detach(|| index::rollback(&index)).map_err(py_err)
}

/// `neardup index compact [--containment-words N | --no-containment]`:
/// (segments before, after, generation).
#[pyfunction]
#[pyo3(signature = (index, containment_words = None, no_containment = false, bands = None, rows = None))]
fn index_compact(
    py: Python<'_>,
    #[pyo3(from_py_with = fspath)] index: PathBuf,
    containment_words: Option<usize>,
    no_containment: bool,
    bands: Option<usize>,
    rows: Option<usize>,
) -> PyResult<(usize, usize, u64)> {
    let banding = match (bands, rows) {
        (Some(b), Some(r)) => Some((b, r)),
        (None, None) => None,
        _ => return Err(ConfigError::new_err("give bands and rows together")),
    };
    let containment = match (containment_words, no_containment) {
        (Some(_), true) => {
            return Err(ConfigError::new_err(
                "containment_words and no_containment contradict each other",
            ));
        }
        (Some(n), false) => Some(Some(n)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let done = py
        .detach(|| {
            let changes = index::Changes {
                containment_words: containment,
                banding,
            };
            index::compact(&index, changes)
        })
        .map_err(py_err)?;
    Ok((done.segments.0, done.segments.1, done.generation))
}

/// `neardup index drop [BATCH...] [--before TIME]`: what was dropped
/// (batches, paragraphs, variants, left, segments and bytes before and
/// after, the segments kept as they were, generation).
#[pyfunction]
#[pyo3(signature = (index, batches, before = None, keep = None))]
fn index_drop<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = fspath)] index: PathBuf,
    batches: Vec<String>,
    before: Option<i64>,
    keep: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    if keep == Some(0) {
        return Err(ConfigError::new_err(
            "keep=0 would drop every batch: name them, or give before, to empty the index",
        ));
    }
    let which = index::BatchSelection {
        names: batches,
        before,
        keep,
    };
    let done = py
        .detach(|| index::drop_batches(&index, &which))
        .map_err(py_err)?;
    let d = PyDict::new(py);
    d.set_item("batches", done.batches)?;
    d.set_item("paragraphs", done.paragraphs)?;
    d.set_item("variants", done.variants)?;
    d.set_item("left", done.left)?;
    d.set_item("segments", done.segments)?;
    d.set_item("bytes", done.bytes)?;
    d.set_item("kept", done.kept)?;
    d.set_item("generation", done.generation)?;
    Ok(d)
}

/// Seconds since the Unix epoch of `2026-09-01` or
/// `2026-09-01T06:00:00Z` (UTC).
#[pyfunction]
fn parse_utc_time(text: &str) -> PyResult<i64> {
    index::parse_utc_time(text).ok_or_else(|| {
        ConfigError::new_err(format!(
            "{text:?} is not a UTC date (2026-09-01) or time (2026-09-01T06:00:00Z)"
        ))
    })
}

/// The seconds in an age such as `90d`, `36h` or `1w3d`.
#[pyfunction]
fn parse_age(text: &str) -> PyResult<i64> {
    index::parse_age(text).ok_or_else(|| {
        ConfigError::new_err(format!(
            "{text:?} is not an age: a count and its unit, such as 90d, 36h or 1w3d (units s, m, h, d, w)"
        ))
    })
}

#[pymodule]
fn _neardup(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("NeardupError", py.get_type::<NeardupError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("IndexFileError", py.get_type::<IndexFileError>())?;
    m.add_class::<PyConfig>()?;
    m.add_function(wrap_pyfunction!(scan_json, m)?)?;
    m.add_function(wrap_pyfunction!(dedup_rows, m)?)?;
    m.add_function(wrap_pyfunction!(stage_fingerprint, m)?)?;
    m.add_function(wrap_pyfunction!(stage_group, m)?)?;
    m.add_function(wrap_pyfunction!(stage_components, m)?)?;
    m.add_function(wrap_pyfunction!(stage_star_round, m)?)?;
    m.add_function(wrap_pyfunction!(stage_star_finish, m)?)?;
    m.add_function(wrap_pyfunction!(stage_reread, m)?)?;
    m.add_function(wrap_pyfunction!(stage_verify, m)?)?;
    m.add_function(wrap_pyfunction!(clean, m)?)?;
    m.add_function(wrap_pyfunction!(index_create, m)?)?;
    m.add_function(wrap_pyfunction!(index_config, m)?)?;
    m.add_function(wrap_pyfunction!(index_add, m)?)?;
    m.add_function(wrap_pyfunction!(index_info, m)?)?;
    m.add_function(wrap_pyfunction!(index_verify, m)?)?;
    m.add_function(wrap_pyfunction!(index_rollback, m)?)?;
    m.add_function(wrap_pyfunction!(index_compact, m)?)?;
    m.add_function(wrap_pyfunction!(index_drop, m)?)?;
    m.add_function(wrap_pyfunction!(parse_utc_time, m)?)?;
    m.add_function(wrap_pyfunction!(parse_age, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
