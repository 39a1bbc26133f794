//! Write and end chunks: Node's encodings, the chunk type rule of `Writable.write()`, and
//! how a string chunk becomes bytes.
//!
//! Sockets set `decodeStrings: false`, so a string chunk stays a string until the handle
//! writes it: it counts toward `bufferSize`/`writableLength` with its **UTF-16 length**
//! ([`utf16_len`]) and toward `bytesWritten` with `Buffer.byteLength(chunk, encoding)`
//! ([`Encoding::byte_length`]), and is encoded when written ([`Encoding::encode`]).

use crate::error::{Code, NetError};
use crate::socket::Chunk;
use crate::validate;
use crate::value::Value;

/// A string encoding Node knows (`Buffer.isEncoding`), by its canonical name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `'utf8'` / `'utf-8'` (the default).
    Utf8,
    /// `'utf16le'` / `'utf-16le'` / `'ucs2'` / `'ucs-2'`.
    Utf16le,
    /// `'latin1'` / `'binary'`: the low byte of each UTF-16 code unit.
    Latin1,
    /// `'ascii'`: encodes exactly as `latin1` does.
    Ascii,
    /// `'base64'` (decoding also accepts the URL alphabet, skips other characters and stops
    /// at the first `=`).
    Base64,
    /// `'base64url'` (decoded exactly as `base64`).
    Base64url,
    /// `'hex'`: pairs of hex digits, stopping at the first invalid pair.
    Hex,
}

impl Encoding {
    /// Node's `normalizeEncoding` for a non-empty name: the names above in any letter case.
    pub fn from_name(name: &str) -> Option<Encoding> {
        Some(match name.to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" => Encoding::Utf8,
            "utf16le" | "utf-16le" | "ucs2" | "ucs-2" => Encoding::Utf16le,
            "latin1" | "binary" => Encoding::Latin1,
            "ascii" => Encoding::Ascii,
            "base64" => Encoding::Base64,
            "base64url" => Encoding::Base64url,
            "hex" => Encoding::Hex,
            _ => return None,
        })
    }

    /// The canonical name (`'utf8'`, `'utf16le'`, `'latin1'`, …).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf8",
            Encoding::Utf16le => "utf16le",
            Encoding::Latin1 => "latin1",
            Encoding::Ascii => "ascii",
            Encoding::Base64 => "base64",
            Encoding::Base64url => "base64url",
            Encoding::Hex => "hex",
        }
    }

    /// The bytes Node writes for `text` in this encoding (`Buffer.from(text, encoding)`).
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8 => text.as_bytes().to_vec(),
            Encoding::Utf16le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            Encoding::Latin1 | Encoding::Ascii => {
                text.encode_utf16().map(|u| (u & 0xff) as u8).collect()
            }
            Encoding::Hex => decode_hex(text),
            Encoding::Base64 | Encoding::Base64url => decode_base64(text),
        }
    }

    /// `Buffer.byteLength(text, encoding)`: exact for UTF-8, UTF-16 and latin1/ascii; an
    /// estimate from the length for base64 (padding-aware 3/4) and hex (half), as Node
    /// computes it for `bytesWritten`.
    pub fn byte_length(self, text: &str) -> usize {
        let len = utf16_len(text);
        match self {
            Encoding::Utf8 => text.len(),
            Encoding::Utf16le => len * 2,
            Encoding::Latin1 | Encoding::Ascii => len,
            Encoding::Hex => len / 2,
            Encoding::Base64 | Encoding::Base64url => {
                let units: Vec<u16> = text.encode_utf16().collect();
                let mut n = units.len();
                if n > 0 && units[n - 1] == u16::from(b'=') {
                    n -= 1;
                }
                if n > 1 && units[n - 1] == u16::from(b'=') {
                    n -= 1;
                }
                (n * 3) / 4
            }
        }
    }
}

/// The length of a JavaScript string: UTF-16 code units (what `bufferSize` counts for
/// string chunks).
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

fn decode_hex(text: &str) -> Vec<u8> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let nibble = |u: u16| char::from_u32(u32::from(u)).and_then(|c| c.to_digit(16));
    let mut out = Vec::with_capacity(units.len() / 2);
    for pair in units.chunks_exact(2) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
            _ => break,
        }
    }
    out
}

fn unbase64(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Node's lenient base64 decoder: each UTF-16 unit is read as its low byte, characters
/// outside both alphabets are skipped, decoding stops at the first `=` or at the end;
/// a final group of 2 or 3 characters yields 1 or 2 bytes. The output never exceeds
/// Node's size estimate for the input.
fn decode_base64(text: &str) -> Vec<u8> {
    let src: Vec<u8> = text.encode_utf16().map(|u| (u & 0xff) as u8).collect();
    let estimate = {
        let mut size = src.len();
        if size < 2 {
            0
        } else {
            if src[size - 1] == b'=' {
                size -= 1;
                if src[size - 1] == b'=' {
                    size -= 1;
                }
            }
            let rem = size % 4;
            let mut n = size / 4 * 3;
            if rem != 0 && !(n == 0 && rem == 1) {
                n += 1 + usize::from(rem == 3);
            }
            n
        }
    };
    let mut out = Vec::with_capacity(estimate);
    let mut sextets = Vec::with_capacity(4);
    for &c in &src {
        if c == b'=' {
            break;
        }
        let Some(v) = unbase64(c) else { continue };
        sextets.push(v);
        if sextets.len() == 4 {
            out.push((sextets[0] << 2) | (sextets[1] >> 4));
            out.push((sextets[1] << 4) | (sextets[2] >> 2));
            out.push((sextets[2] << 6) | sextets[3]);
            sextets.clear();
        }
    }
    if sextets.len() >= 2 {
        out.push((sextets[0] << 2) | (sextets[1] >> 4));
    }
    if sextets.len() == 3 {
        out.push((sextets[1] << 4) | (sextets[2] >> 2));
    }
    out.truncate(estimate);
    out
}

/// A chunk as the loose face sees it: the string itself, or the fact that a binary view
/// was passed (a [`Value`] does not carry bytes; the embedder has them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkArg {
    /// A string chunk; `encoding: None` means the stream's default encoding (`'utf8'`
    /// unless the socket was created with `defaultEncoding`).
    Text {
        /// The string.
        text: String,
        /// The encoding argument, if one was given.
        encoding: Option<Encoding>,
    },
    /// A `TypedArray` or `DataView` given without its bytes (the encoding argument is
    /// ignored; the embedder has the bytes).
    Binary,
    /// A `Buffer` with its bytes (the encoding argument is ignored).
    Bytes(Vec<u8>),
}

impl ChunkArg {
    /// The chunk to write, given the stream's default encoding; `None` for
    /// [`ChunkArg::Binary`], whose bytes only the embedder has.
    pub fn into_text_chunk(self, default_encoding: Encoding) -> Option<Chunk> {
        match self {
            ChunkArg::Text { text, encoding } => {
                Some(Chunk::encoded(&text, encoding.unwrap_or(default_encoding)))
            }
            ChunkArg::Bytes(b) => Some(Chunk::bytes(b)),
            ChunkArg::Binary => None,
        }
    }
}

/// `socket.write(chunk[, encoding][, callback])`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteArgs {
    /// The chunk.
    pub chunk: ChunkArg,
    /// Whether a callback function was given.
    pub has_callback: bool,
    /// Which argument is the callback, when one was given (`write(chunk, cb)`: 1).
    pub callback: Option<usize>,
}

/// `socket.end([chunk][, encoding][, callback])`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndArgs {
    /// The final chunk, if one was given (`null`/`undefined` mean none).
    pub chunk: Option<ChunkArg>,
    /// Whether a callback function was given.
    pub has_callback: bool,
    /// Which argument is the callback, when one was given (`end(cb)`: 0).
    pub callback: Option<usize>,
}

/// The constructor names `ArrayBuffer.isView` accepts (a `Buffer` is a `Uint8Array`).
const BINARY_VIEWS: &[&str] = &[
    "Buffer",
    "Uint8Array",
    "Uint8ClampedArray",
    "Int8Array",
    "Uint16Array",
    "Int16Array",
    "Uint32Array",
    "Int32Array",
    "Float16Array",
    "Float32Array",
    "Float64Array",
    "BigInt64Array",
    "BigUint64Array",
    "DataView",
];

/// `ERR_UNKNOWN_ENCODING` ("Unknown encoding: X", `X` formatted as `util.format('%s')`).
pub fn unknown_encoding(encoding: &Value) -> NetError {
    let shown = validate::format_s(encoding);
    NetError::new(
        Code::ErrUnknownEncoding,
        format!("Unknown encoding: {shown}"),
    )
}

/// Node's `_write(stream, chunk, encoding)` checks, in order: `null` chunk
/// (`ERR_STREAM_NULL_VALUES`), a truthy encoding that is neither `'buffer'` nor a known
/// encoding (`ERR_UNKNOWN_ENCODING`), then the chunk type (`ERR_INVALID_ARG_TYPE`).
///
/// Deviation: `'buffer'` as the encoding of a **string** chunk is rejected here with the
/// `ERR_INVALID_ARG_TYPE` ("Second argument must be a buffer") that Node 20 throws only
/// later, from inside the handle write (uncaught when the write was queued before connect).
pub fn validate_chunk(chunk: &Value, encoding: &Value) -> Result<ChunkArg, NetError> {
    if matches!(chunk, Value::Null) {
        return Err(NetError::new(
            Code::ErrStreamNullValues,
            "May not write null values to stream",
        ));
    }
    let encoding_is_buffer = matches!(encoding, Value::String(s) if s == "buffer");
    let encoding = if !encoding.is_truthy() || encoding_is_buffer {
        None
    } else {
        match encoding {
            Value::String(s) => match Encoding::from_name(s) {
                Some(e) => Some(e),
                None => return Err(unknown_encoding(encoding)),
            },
            other => return Err(unknown_encoding(other)),
        }
    };
    match chunk {
        Value::String(_) if encoding_is_buffer => Err(NetError::new(
            Code::ErrInvalidArgType,
            "Second argument must be a buffer",
        )),
        Value::String(text) => Ok(ChunkArg::Text {
            text: text.clone(),
            encoding,
        }),
        Value::Instance(name) if BINARY_VIEWS.contains(&name.as_str()) => Ok(ChunkArg::Binary),
        Value::Buffer(b) => Ok(ChunkArg::Bytes(b.clone())),
        other => Err(validate::invalid_arg_type(
            "chunk",
            &["string", "Buffer", "TypedArray", "DataView"],
            other,
        )),
    }
}

/// `socket.write(...args)` with any arguments: an encoding that is a function is the
/// callback; a non-function callback is ignored, as Node ignores it.
pub fn write_args(args: &[Value]) -> Result<WriteArgs, NetError> {
    let arg = |i: usize| args.get(i).unwrap_or(&crate::value::UNDEFINED);
    let (encoding, cb) = match arg(1) {
        Value::Function(_) => (&Value::Undefined, 1),
        e => (e, 2),
    };
    let callback = matches!(arg(cb), Value::Function(_)).then_some(cb);
    Ok(WriteArgs {
        chunk: validate_chunk(arg(0), encoding)?,
        has_callback: callback.is_some(),
        callback,
    })
}

/// `socket.end(...args)` with any arguments: `end(cb)`, `end(chunk, cb)`,
/// `end(chunk, encoding, cb)`; a `null`/`undefined` chunk means no final write.
pub fn end_args(args: &[Value]) -> Result<EndArgs, NetError> {
    let arg = |i: usize| args.get(i).unwrap_or(&crate::value::UNDEFINED);
    let (chunk, encoding, cb) = match (arg(0), arg(1)) {
        (Value::Function(_), _) => (&Value::Null, &Value::Null, 0),
        (c, Value::Function(_)) => (c, &Value::Null, 1),
        (c, e) => (c, e, 2),
    };
    let chunk = if chunk.is_nullish() {
        None
    } else {
        Some(validate_chunk(chunk, encoding)?)
    };
    let callback = matches!(arg(cb), Value::Function(_)).then_some(cb);
    Ok(EndArgs {
        chunk,
        has_callback: callback.is_some(),
        callback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_argument_is_named_by_position() {
        let f = || Value::Function(None);
        let w = |args: &[Value]| write_args(args).unwrap().callback;
        assert_eq!(w(&["a".into(), f()]), Some(1));
        assert_eq!(w(&["a".into(), "utf8".into(), f()]), Some(2));
        assert_eq!(w(&["a".into(), "utf8".into()]), None);
        let e = |args: &[Value]| end_args(args).unwrap().callback;
        assert_eq!(e(&[f()]), Some(0));
        assert_eq!(e(&["a".into(), f()]), Some(1));
        assert_eq!(e(&["a".into(), "hex".into(), f()]), Some(2));
        assert_eq!(e(&[]), None);
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn encoding_names_are_case_insensitive() {
        for n in [
            "utf8",
            "UTF-8",
            "Utf8",
            "ucs2",
            "UCS-2",
            "utf-16le",
            "binary",
            "BASE64URL",
        ] {
            assert!(Encoding::from_name(n).is_some(), "{n}");
        }
        for n in ["", "buffer", "utf16", "utf-16", "bogus-encoding", "latin-1"] {
            assert!(Encoding::from_name(n).is_none(), "{n}");
        }
        assert_eq!(Encoding::from_name("Binary"), Some(Encoding::Latin1));
    }

    #[test]
    fn encodings_produce_nodes_bytes() {
        // Expected values observed with Node 20: Buffer.from(s, enc).toString('hex').
        for (s, enc, want, len) in [
            ("abc", Encoding::Hex, "ab", 1),
            ("zz11", Encoding::Hex, "", 2),
            ("11zz22", Encoding::Hex, "11", 3),
            ("AbCd", Encoding::Hex, "abcd", 2),
            ("aGVsbG8=", Encoding::Base64, "68656c6c6f", 5),
            ("aGVsbG8", Encoding::Base64, "68656c6c6f", 5),
            ("aGV sbG8", Encoding::Base64, "68656c6c6f", 6),
            ("aGVs*bG8", Encoding::Base64, "68656c6c6f", 6),
            ("a-_b", Encoding::Base64, "6befdb", 3),
            ("a-_b", Encoding::Base64url, "6befdb", 3),
            ("aGVsbG8=aGk=", Encoding::Base64, "68656c6c6f", 8),
            ("QQ", Encoding::Base64, "41", 1),
            ("Q", Encoding::Base64, "", 0),
            ("QQ=QQ", Encoding::Base64, "41", 3),
            ("==", Encoding::Base64, "", 0),
            ("A===", Encoding::Base64, "", 1),
            ("QUJD\nREVG", Encoding::Base64, "414243444546", 6),
            ("é€😀", Encoding::Latin1, "e9ac3d00", 4),
            ("é€😀", Encoding::Ascii, "e9ac3d00", 4),
            ("é€😀", Encoding::Utf16le, "e900ac203dd800de", 8),
            ("é€😀", Encoding::Utf8, "c3a9e282acf09f9880", 9),
        ] {
            assert_eq!(hex(&enc.encode(s)), want, "{s:?} {enc:?}");
            assert_eq!(enc.byte_length(s), len, "{s:?} {enc:?}");
        }
    }

    #[test]
    fn chunk_accounting() {
        // `writableLength` counts UTF-16 code units of a string, bytes of a buffer.
        let c = Chunk::encoded("ä", Encoding::Utf8);
        assert_eq!((c.length, c.bytes.len()), (1, 2));
        let c = Chunk::encoded("😀", Encoding::Utf8);
        assert_eq!((c.length, c.bytes.len()), (2, 4));
        let c = Chunk::encoded("ab", Encoding::Hex);
        assert_eq!((c.length, c.bytes), (2, vec![0xab]));
        let c = ChunkArg::Bytes(vec![1, 2, 3]).into_text_chunk(Encoding::Utf8);
        assert_eq!(c, Some(Chunk::bytes(vec![1, 2, 3])));
    }

    #[test]
    fn write_validation_order_and_messages() {
        let code = |args: &[Value]| write_args(args).map_err(|e| e.code);
        assert_eq!(code(&[Value::Null]), Err(Code::ErrStreamNullValues));
        assert_eq!(
            code(&[Value::Null, "bogus".into()]),
            Err(Code::ErrStreamNullValues)
        );
        assert_eq!(
            code(&[1.0.into(), "bogus".into()]),
            Err(Code::ErrUnknownEncoding)
        );
        assert_eq!(code(&[1.0.into()]), Err(Code::ErrInvalidArgType));
        assert_eq!(code(&[Value::Array(vec![])]), Err(Code::ErrInvalidArgType));
        assert_eq!(
            code(&[Value::Instance("ArrayBuffer".into())]),
            Err(Code::ErrInvalidArgType)
        );
        assert_eq!(
            code(&["x".into(), 1.0.into()]),
            Err(Code::ErrUnknownEncoding)
        );
        let e = write_args(&[Value::Undefined]).unwrap_err();
        assert_eq!(
            e.message,
            "The \"chunk\" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received undefined"
        );
        let e = write_args(&["x".into(), "bogus-encoding".into()]).unwrap_err();
        assert_eq!(e.message, "Unknown encoding: bogus-encoding");
        assert_eq!(
            unknown_encoding(&Value::Object(vec![("a".into(), 1.0.into())])).message,
            "Unknown encoding: { a: 1 }"
        );

        let w = write_args(&["x".into(), "HEX".into(), Value::Function(None)]).unwrap();
        assert_eq!(
            w.chunk,
            ChunkArg::Text {
                text: "x".into(),
                encoding: Some(Encoding::Hex)
            }
        );
        assert!(w.has_callback);
        let w = write_args(&["x".into(), Value::Function(None)]).unwrap();
        assert!(w.has_callback);
        let w = write_args(&["x".into(), "".into(), 5.0.into()]).unwrap();
        assert!(!w.has_callback);
        assert_eq!(
            w.chunk.into_text_chunk(Encoding::Latin1),
            Some(Chunk::encoded("x", Encoding::Latin1))
        );
        let w = write_args(&[Value::Instance("Buffer".into()), "buffer".into()]).unwrap();
        assert_eq!(w.chunk, ChunkArg::Binary);
        assert_eq!(
            code(&["x".into(), "buffer".into()]),
            Err(Code::ErrInvalidArgType)
        );
    }

    #[test]
    fn end_forms() {
        assert_eq!(
            end_args(&[]).unwrap(),
            EndArgs {
                chunk: None,
                has_callback: false,
                callback: None
            }
        );
        assert!(end_args(&[Value::Function(None)]).unwrap().has_callback);
        let e = end_args(&["x".into(), Value::Function(None)]).unwrap();
        assert!(e.has_callback && e.chunk.is_some());
        assert!(end_args(&[Value::Null, "bogus".into()])
            .unwrap()
            .chunk
            .is_none());
        assert_eq!(
            end_args(&[1.0.into()]).unwrap_err().code,
            Code::ErrInvalidArgType
        );
    }
}
