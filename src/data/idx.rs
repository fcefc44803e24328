//! The IDX format of MNIST and its kin, gzipped or not.
//!
//! An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
//! one big-endian `u32` per dimension, then the values in C order. Only unsigned bytes (type code
//! 0x08) are read: that is what every file of MNIST and Fashion-MNIST holds.
//!
//! The header of a damaged or hostile file must not decide how much memory is taken. The size it
//! declares is checked against a limit before anything is reserved; a raw file must also be
//! exactly as long as its header says, and a gzipped file's buffer is reserved only up to what
//! its compressed bytes could expand to, then grows as data really arrives, so a 100-byte file
//! that claims a gigabyte costs about a hundred kilobytes.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The type code of unsigned bytes, the only one read.
pub const UNSIGNED_BYTE: u8 = 0x08;

/// The most dimensions a file may declare; MNIST's images have three.
pub const MAX_DIMS: usize = 4;

/// The most bytes (header and data, after decompression) read when the caller gives no smaller
/// limit: far above MNIST's 47 MB, far below what a header can claim.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Deflate expands its input at most about 1032 times (a 258-byte match in two bits).
const MAX_DEFLATE_RATIO: u64 = 1032;

/// An IDX array: its shape, its values in C order and the SHA-256 of the whole decompressed file
/// (header included), which identifies a known file whatever its compression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
    pub sha256: [u8; 32],
}

impl IdxArray {
    /// The SHA-256 as 64 lowercase hexadecimal digits, as `sha256sum` prints it.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256, "")
    }
}

/// Reads the IDX file at `path`, gzipped or not, refusing more than `DEFAULT_MAX_BYTES`.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    read_idx_with_limit(path, DEFAULT_MAX_BYTES)
}

/// Reads the IDX file at `path`, gzipped or not, refusing a file whose header declares more than
/// `max_bytes` (header and data, after decompression). A caller that knows the size to expect
/// passes it, so that a wrong file is rejected before its data is read.
pub fn read_idx_with_limit(path: &Path, max_bytes: u64) -> Result<IdxArray> {
    let shown = path.display();
    let mut file = File::open(path).map_err(|e| Error::io(format!("cannot open {shown}"), e))?;
    let io_error = |e: io::Error| Error::io(format!("cannot read {shown}"), e);
    let on_disk_len = file.metadata().map_err(io_error)?.len();
    let mut magic = [0u8; 2];
    let magic_len = read_fully(&mut file, &mut magic).map_err(io_error)?;
    file.rewind().map_err(io_error)?;
    let gzipped = magic_len == magic.len() && magic == GZIP_MAGIC;
    let context = Context {
        path,
        gzipped,
        max_bytes,
    };
    if gzipped {
        read_stream(MultiGzDecoder::new(file), on_disk_len, &context)
    } else {
        read_stream(file, on_disk_len, &context)
    }
}

/// What the messages need to know about the file being read.
struct Context<'a> {
    path: &'a Path,
    gzipped: bool,
    max_bytes: u64,
}

impl Context<'_> {
    fn format(&self, problem: std::fmt::Arguments) -> Error {
        Error::Format(format!("{} {problem}", self.path.display()))
    }

    /// Said after a size, so that it is not taken for the size of the file on disk.
    fn decompressed(&self) -> &'static str {
        if self.gzipped {
            " after decompression"
        } else {
            ""
        }
    }

    fn truncated(&self, expected: u64, found: u64) -> Error {
        self.format(format_args!(
            "is truncated: expected {expected} bytes{}, found {found}",
            self.decompressed()
        ))
    }

    fn too_long(&self, expected: u64, found: Option<u64>) -> Error {
        let found = found.map_or_else(|| "more".to_string(), |n| n.to_string());
        self.format(format_args!(
            "holds more than its header declares: expected {expected} bytes{}, found {found}; \
             it is damaged or not an IDX file",
            self.decompressed()
        ))
    }

    /// A failure of the underlying reader, after `found` bytes of (decompressed) content: for a
    /// gzipped file a damaged stream, else a failing disk or a file that changed while read.
    fn read_failed(&self, err: io::Error, expected: u64, found: u64) -> Error {
        match err.kind() {
            io::ErrorKind::UnexpectedEof => self.truncated(expected, found),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData if self.gzipped => self
                .format(format_args!(
                    "is not a valid gzip file ({err}, after {found} bytes of decompressed data); \
                     it is damaged or was not completely written"
                )),
            _ => Error::io(format!("cannot read {}", self.path.display()), err),
        }
    }
}

/// The parsed header: the shape and the sizes it implies.
struct Header {
    shape: Vec<usize>,
    /// Bytes of the header itself: the magic number and the dimensions.
    len: u64,
    /// Bytes of values that follow it.
    data_len: u64,
}

/// Passes bytes through while hashing them and counting them, so that the file is read once.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = buf.get(..n).ok_or_else(|| {
            io::Error::other("a reader returned more bytes than its buffer holds")
        })?;
        self.hasher.update(read);
        self.count += n as u64;
        Ok(n)
    }
}

fn read_stream(inner: impl Read, on_disk_len: u64, context: &Context) -> Result<IdxArray> {
    let mut reader = Hashing {
        inner,
        hasher: Sha256::new(),
        count: 0,
    };
    let header = read_header(&mut reader, context)?;
    // Cannot overflow: both were checked against `max_bytes` together.
    let expected_len = header.len + header.data_len;
    if !context.gzipped {
        if on_disk_len < expected_len {
            return Err(context.truncated(expected_len, on_disk_len));
        }
        if on_disk_len > expected_len {
            return Err(context.too_long(expected_len, Some(on_disk_len)));
        }
    }
    let reservation = initial_reservation(header.data_len, context.gzipped, on_disk_len);
    let mut data = Vec::new();
    usize::try_from(reservation)
        .ok()
        .and_then(|n| data.try_reserve_exact(n).ok())
        .ok_or_else(|| {
            Error::OutOfMemory(format!(
                "cannot allocate {reservation} bytes to read {}",
                context.path.display()
            ))
        })?;
    let outcome = (&mut reader).take(header.data_len).read_to_end(&mut data);
    if let Err(err) = outcome {
        return Err(context.read_failed(err, expected_len, reader.count));
    }
    if (data.len() as u64) < header.data_len {
        return Err(context.truncated(expected_len, reader.count));
    }
    // Reading past the end also makes the gzip decoder check its CRC and length trailer.
    match read_fully(&mut reader, &mut [0u8; 1]) {
        Ok(0) => {}
        Ok(_) => return Err(context.too_long(expected_len, None)),
        Err(err) => return Err(context.read_failed(err, expected_len, reader.count)),
    }
    Ok(IdxArray {
        shape: header.shape,
        data,
        sha256: reader.hasher.finalize().into(),
    })
}

/// The bytes reserved before reading `data_len` bytes of values: all of them for a raw file
/// (whose length was checked), for a gzipped file no more than its compressed bytes could expand
/// to, so that a small hostile file cannot make a large reservation.
fn initial_reservation(data_len: u64, gzipped: bool, on_disk_len: u64) -> u64 {
    if gzipped {
        data_len.min(on_disk_len.saturating_mul(MAX_DEFLATE_RATIO))
    } else {
        data_len
    }
}

fn read_header(reader: &mut Hashing<impl Read>, context: &Context) -> Result<Header> {
    let mut magic = [0u8; 4];
    let found = read_fully(reader, &mut magic)
        .map_err(|e| context.read_failed(e, magic.len() as u64, reader.count))?;
    if found < magic.len() {
        return Err(context.format(format_args!(
            "is truncated: an IDX file starts with a 4-byte magic number, found {found} bytes{}",
            context.decompressed()
        )));
    }
    let [zero_a, zero_b, type_code, ndim] = magic;
    if zero_a != 0 || zero_b != 0 {
        return Err(context.format(format_args!(
            "is not an IDX file: it starts with the bytes {}{}, where an IDX file starts with \
             two zero bytes, a type code and the number of dimensions (00 00 08 03 for images)",
            hex(&magic, " "),
            context.decompressed()
        )));
    }
    if type_code != UNSIGNED_BYTE {
        return Err(context.format(format_args!(
            "holds IDX values of type {} (type code 0x{type_code:02x}); only unsigned bytes \
             (0x08, as in MNIST) can be read",
            type_name(type_code)
        )));
    }
    let ndim = usize::from(ndim);
    if !(1..=MAX_DIMS).contains(&ndim) {
        return Err(context.format(format_args!(
            "declares {ndim} dimensions in its header; expected 1 to {MAX_DIMS}"
        )));
    }
    let mut dim_bytes = [0u8; 4 * MAX_DIMS];
    let dim_bytes = &mut dim_bytes[..4 * ndim];
    let header_len = (magic.len() + dim_bytes.len()) as u64;
    let found = read_fully(reader, dim_bytes)
        .map_err(|e| context.read_failed(e, header_len, reader.count))?;
    if found < dim_bytes.len() {
        return Err(context.format(format_args!(
            "is truncated: its header declares {ndim} dimensions, which take {} bytes after the \
             magic number, found {found}",
            dim_bytes.len()
        )));
    }
    let dims: Vec<u32> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let total_len = dims
        .iter()
        .try_fold(1u64, |size, &dim| size.checked_mul(u64::from(dim)))
        .and_then(|data_len| {
            data_len
                .checked_add(header_len)
                .map(|total| (data_len, total))
        });
    let data_len = match total_len {
        Some((data_len, total)) if total <= context.max_bytes => data_len,
        _ => {
            let declared = total_len.map_or_else(
                || "more than 2^64".to_string(),
                |(_, total)| total.to_string(),
            );
            return Err(context.format(format_args!(
                "declares an array of shape {dims:?}, {declared} bytes with its header, more \
                 than the {} bytes expected here; the header is damaged or this is not the file \
                 expected",
                context.max_bytes
            )));
        }
    };
    // An empty array can still have a shape that no array may take: numpy and ndarray refuse
    // one whose dimensions other than 0 multiply past isize::MAX.
    let nonzero_product = dims
        .iter()
        .filter(|&&dim| dim != 0)
        .try_fold(1u64, |size, &dim| size.checked_mul(u64::from(dim)));
    let shape: Option<Vec<usize>> = dims.iter().map(|&d| usize::try_from(d).ok()).collect();
    match (nonzero_product, shape) {
        (Some(product), Some(shape)) if product <= isize::MAX as u64 => Ok(Header {
            shape,
            len: header_len,
            data_len,
        }),
        _ => Err(context.format(format_args!(
            "declares the shape {dims:?}, which no array can have: its dimensions other than 0 \
             multiply past the largest array size; the header is damaged"
        ))),
    }
}

/// Reads until `buf` is full or the data ends, returning how many bytes were read.
fn read_fully(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "short (16-bit integer)",
        0x0C => "int (32-bit integer)",
        0x0D => "float (32-bit)",
        0x0E => "double (64-bit float)",
        _ => "unknown",
    }
}

fn hex(bytes: &[u8], separator: &str) -> String {
    let mut text = String::with_capacity(bytes.len() * (2 + separator.len()));
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            text.push_str(separator);
        }
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    /// An IDX file's bytes: the magic number, the dimensions, then `data`.
    fn idx_bytes(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0, 0, type_code, dims.len() as u8];
        for dim in dims {
            bytes.extend_from_slice(&dim.to_be_bytes());
        }
        bytes.extend_from_slice(data);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The message of a format error, failing the test on any other outcome.
    fn format_error(result: Result<IdxArray>) -> String {
        match result {
            Err(Error::Format(message)) => message,
            other => panic!("expected a format error, received {other:?}"),
        }
    }

    fn images() -> (Vec<u8>, Vec<u8>) {
        let data: Vec<u8> = (0..2 * 3 * 4).map(|v| (v * 10) as u8).collect();
        (idx_bytes(0x08, &[2, 3, 4], &data), data)
    }

    #[test]
    fn reads_a_raw_file_with_its_shape_values_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, data) = images();
        let array = read_idx(&write(&dir, "images-idx3-ubyte", &bytes)).unwrap();
        assert_eq!(array.shape, vec![2, 3, 4]);
        assert_eq!(array.data, data);
        assert_eq!(array.sha256, <[u8; 32]>::from(Sha256::digest(&bytes)));
    }

    #[test]
    fn a_gzipped_file_reads_the_same_with_the_hash_of_its_decompressed_content() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _) = images();
        let raw = read_idx(&write(&dir, "raw", &bytes)).unwrap();
        let gzipped = read_idx(&write(&dir, "gz", &gzip(&bytes))).unwrap();
        assert_eq!(gzipped, raw);
    }

    #[test]
    fn concatenated_gzip_members_read_as_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, data) = images();
        let mut members = gzip(&bytes[..10]);
        members.extend(gzip(&bytes[10..]));
        let array = read_idx(&write(&dir, "members.gz", &members)).unwrap();
        assert_eq!(array.data, data);
    }

    #[test]
    fn reads_labels_and_an_empty_array() {
        let dir = tempfile::tempdir().unwrap();
        let labels = read_idx(&write(&dir, "l", &idx_bytes(8, &[3], &[7, 0, 9]))).unwrap();
        assert_eq!((labels.shape, labels.data), (vec![3], vec![7, 0, 9]));
        let empty = read_idx(&write(&dir, "e", &idx_bytes(8, &[0, 28], &[]))).unwrap();
        assert_eq!((empty.shape, empty.data), (vec![0, 28], vec![]));
    }

    #[test]
    fn sha256_hex_is_what_sha256sum_prints() {
        let array = IdxArray {
            shape: vec![],
            data: vec![],
            sha256: Sha256::digest(b"abc").into(),
        };
        assert_eq!(
            array.sha256_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        match read_idx(&dir.path().join("absent")) {
            Err(Error::Io { context, source }) => {
                assert!(context.contains("absent"), "{context}");
                assert_eq!(source.kind(), io::ErrorKind::NotFound);
            }
            other => panic!("expected an I/O error, received {other:?}"),
        }
    }

    #[test]
    fn an_empty_or_tiny_file_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        for bytes in [&[][..], &[0u8][..], &[0, 0, 8][..]] {
            let message = format_error(read_idx(&write(&dir, "tiny", bytes)));
            assert!(message.contains("tiny is truncated"), "{message}");
            assert!(
                message.contains(&format!("found {} bytes", bytes.len())),
                "{message}"
            );
        }
        let message = format_error(read_idx(&write(&dir, "tiny.gz", &gzip(&[0, 0]))));
        assert!(
            message.contains("found 2 bytes after decompression"),
            "{message}"
        );
    }

    #[test]
    fn a_file_without_the_idx_magic_is_rejected_with_its_first_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let message = format_error(read_idx(&write(&dir, "zip", b"PK\x03\x04rest")));
        assert!(message.contains("is not an IDX file"), "{message}");
        assert!(message.contains("50 4b 03 04"), "{message}");
    }

    #[test]
    fn other_value_types_are_rejected_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = idx_bytes(0x0D, &[1], &[0, 0, 128, 63]);
        let message = format_error(read_idx(&write(&dir, "floats", &bytes)));
        assert!(
            message.contains("float (32-bit) (type code 0x0d)"),
            "{message}"
        );
        assert!(message.contains("only unsigned bytes"), "{message}");
    }

    #[test]
    fn a_dimension_count_outside_one_to_four_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        for ndim in [0u8, 5, 255] {
            let message = format_error(read_idx(&write(&dir, "f", &[0, 0, 8, ndim])));
            assert!(
                message.contains(&format!("declares {ndim} dimensions")),
                "{message}"
            );
        }
    }

    #[test]
    fn a_header_cut_inside_the_dimensions_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let message = format_error(read_idx(&write(&dir, "f", &[0, 0, 8, 3, 0, 0, 0, 2, 0])));
        assert!(message.contains("declares 3 dimensions"), "{message}");
        assert!(message.contains("take 12 bytes"), "{message}");
        assert!(message.contains("found 5"), "{message}");
    }

    #[test]
    fn a_raw_file_must_be_exactly_as_long_as_its_header_says() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _) = images();
        let short = format_error(read_idx(&write(&dir, "f", &bytes[..bytes.len() - 5])));
        assert!(
            short.contains("truncated: expected 40 bytes, found 35"),
            "{short}"
        );
        let mut long = bytes.clone();
        long.push(0);
        let long = format_error(read_idx(&write(&dir, "f", &long)));
        assert!(long.contains("expected 40 bytes, found 41"), "{long}");
    }

    #[test]
    fn a_gzipped_file_with_too_little_or_too_much_data_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _) = images();
        let short = gzip(&bytes[..bytes.len() - 5]);
        let message = format_error(read_idx(&write(&dir, "f.gz", &short)));
        assert!(
            message.contains("truncated: expected 40 bytes after decompression, found 35"),
            "{message}"
        );
        let mut long = bytes.clone();
        long.extend_from_slice(&[1, 2, 3]);
        let message = format_error(read_idx(&write(&dir, "f.gz", &gzip(&long))));
        assert!(
            message.contains("holds more than its header declares"),
            "{message}"
        );
    }

    #[test]
    fn a_cut_gzip_stream_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = idx_bytes(
            8,
            &[4000],
            &(0..4000).map(|v| (v * 7 % 251) as u8).collect::<Vec<_>>(),
        );
        let compressed = gzip(&bytes);
        let cut = &compressed[..compressed.len() / 2];
        let message = format_error(read_idx(&write(&dir, "cut.gz", cut)));
        assert!(
            message.contains("cut.gz is truncated: expected 4008 bytes"),
            "{message}"
        );
    }

    #[test]
    fn a_damaged_gzip_stream_or_checksum_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _) = images();
        let compressed = gzip(&bytes);
        // The trailer is the CRC-32 of the content, then its length.
        let mut bad_crc = compressed.clone();
        let crc_at = bad_crc.len() - 8;
        bad_crc[crc_at] ^= 0x01;
        let message = format_error(read_idx(&write(&dir, "crc.gz", &bad_crc)));
        assert!(
            message.contains("crc.gz is not a valid gzip file"),
            "{message}"
        );
        let mut bad_flags = compressed;
        bad_flags[3] = 0xe0; // reserved flag bits
        let message = format_error(read_idx(&write(&dir, "flags.gz", &bad_flags)));
        assert!(
            message.contains("flags.gz is not a valid gzip file"),
            "{message}"
        );
    }

    #[test]
    fn a_hostile_header_is_refused_before_anything_is_reserved() {
        let dir = tempfile::tempdir().unwrap();
        let huge = idx_bytes(8, &[u32::MAX, u32::MAX, u32::MAX, u32::MAX], &[1, 2, 3]);
        let message = format_error(read_idx(&write(&dir, "huge", &huge)));
        assert!(message.contains("more than 2^64 bytes"), "{message}");
        let big = idx_bytes(8, &[65536, 65536], &[1, 2, 3]);
        for name in ["big", "big.gz"] {
            let bytes = if name.ends_with(".gz") {
                gzip(&big)
            } else {
                big.clone()
            };
            let message = format_error(read_idx(&write(&dir, name, &bytes)));
            assert!(
                message.contains("4294967308 bytes with its header"),
                "{message}"
            );
            assert!(
                message.contains(&format!("more than the {DEFAULT_MAX_BYTES}")),
                "{message}"
            );
        }
    }

    #[test]
    fn an_empty_array_of_an_impossible_shape_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = idx_bytes(8, &[0, 65536, 65536, 1 << 31], &[]);
        let message = format_error(read_idx(&write(&dir, "f", &bytes)));
        assert!(
            message.contains("[0, 65536, 65536, 2147483648], which no array"),
            "{message}"
        );
        let fits = read_idx(&write(&dir, "g", &idx_bytes(8, &[0, 65536, 65536], &[]))).unwrap();
        assert_eq!(fits.shape, vec![0, 65536, 65536]);
    }

    #[test]
    fn a_caller_limit_rejects_a_file_larger_than_expected() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _) = images();
        let path = write(&dir, "f", &bytes);
        assert!(read_idx_with_limit(&path, 40).is_ok());
        let message = format_error(read_idx_with_limit(&path, 39));
        assert!(
            message.contains("40 bytes with its header, more than the 39"),
            "{message}"
        );
    }

    #[test]
    fn a_small_gzipped_file_claiming_much_data_reserves_little_and_is_truncated() {
        assert_eq!(
            initial_reservation(1 << 29, true, 100),
            100 * MAX_DEFLATE_RATIO
        );
        assert_eq!(initial_reservation(47_040_000, true, 9_719_438), 47_040_000);
        assert_eq!(initial_reservation(1 << 29, false, 100), 1 << 29);
        let dir = tempfile::tempdir().unwrap();
        let claim = gzip(&idx_bytes(8, &[1 << 14, 1 << 15], &[5; 10]));
        let message = format_error(read_idx(&write(&dir, "claim.gz", &claim)));
        assert!(
            message.contains("expected 536870924 bytes after decompression, found 22"),
            "{message}"
        );
    }
}
