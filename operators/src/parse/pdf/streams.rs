//! Bounded decoding of stream data. lopdf inflates a stream completely before anyone can look
//! at its size, so a few kilobytes of FlateDecode can take gigabytes. [`decode`] gives the bytes
//! lopdf's `Stream::decompressed_content` gives (FlateDecode, LZWDecode and ASCII85Decode, PNG
//! predictors, filter arrays, the same fallbacks), decodes ASCIIHexDecode and RunLengthDecode
//! too, and stops as soon as the output of any filter passes a limit. FlateDecode data that stop
//! early (a truncated file) or fail (damaged: refused midway, or inflated whole but to bytes
//! whose checksum is wrong) keep all that inflated, which lopdf may drop, and [`decode_prefix`]
//! says they did not come to their end.

use std::io::Write;

use lopdf::{Dictionary, Object, Stream};

/// Why a stream was not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The decoded data would pass the limit.
    TooLarge,
    /// A filter not decoded here (an image filter, say), or data the filter refuses.
    Unreadable,
}

/// Data decoded from a stream, and whether its FlateDecode data came to their end, checksum
/// right (they may stop early: cut off, or damaged past some point, what inflated before is
/// kept; a bit flipped can inflate to wrong bytes that only the checksum refuses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub bytes: Vec<u8>,
    pub complete: bool,
}

/// The decoded data of `stream`, or [`DecodeError::TooLarge`] as soon as it passes `limit`
/// bytes. A stream without a (well-formed) `Filter` entry is its raw data, as for lopdf.
pub(crate) fn decode(stream: &Stream, limit: usize) -> Result<Vec<u8>, DecodeError> {
    decode_prefix(stream, limit).map(|decoded| decoded.bytes)
}

/// [`decode`], saying whether the data came to their end.
pub(crate) fn decode_prefix(stream: &Stream, limit: usize) -> Result<Decoded, DecodeError> {
    let Ok(filters) = stream.filters() else {
        return Ok(Decoded {
            bytes: within(stream.content.clone(), limit)?,
            complete: true,
        });
    };
    // As lopdf: parameters only from a direct dictionary, the same for every filter.
    let params = stream
        .dict
        .get(b"DecodeParms")
        .and_then(Object::as_dict)
        .ok();
    let mut output = Vec::new();
    let mut complete = true;
    let mut input: &[u8] = &stream.content;
    let mut owned;
    for filter in filters {
        owned = match filter {
            b"FlateDecode" => {
                let (inflated, whole) = inflate(input, limit)?;
                complete &= whole;
                predictor(inflated, params)?
            }
            b"LZWDecode" => predictor(lzw(input, params, limit)?, params)?,
            b"ASCII85Decode" => ascii85(input, limit)?,
            b"ASCIIHexDecode" => ascii_hex(input),
            b"RunLengthDecode" => run_length(input, limit)?,
            _ => return Err(DecodeError::Unreadable),
        };
        output = within(owned, limit)?;
        input = &output;
    }
    Ok(Decoded {
        bytes: output,
        complete,
    })
}

fn within(bytes: Vec<u8>, limit: usize) -> Result<Vec<u8>, DecodeError> {
    if bytes.len() > limit {
        Err(DecodeError::TooLarge)
    } else {
        Ok(bytes)
    }
}

/// FlateDecode as lopdf reads it: zlib, and raw deflate after the two header bytes when zlib
/// yields nothing (a damaged header); and whether the deflate data came to their end, whole
/// (a wrong checksum after them says they are damaged: one bit flipped inflates to garbage
/// from there on, with no error before the checksum). Unlike lopdf, all that inflates before
/// the data stop (cut off) or turn bad is kept.
fn inflate(input: &[u8], limit: usize) -> Result<(Vec<u8>, bool), DecodeError> {
    if input.is_empty() {
        return Ok((Vec::new(), true));
    }
    let mut output = Vec::new();
    let mut stop = inflate_into(input, true, &mut output, limit);
    if stop != Stop::Ended && output.is_empty() && input.len() > 2 {
        stop = inflate_into(&input[2..], false, &mut output, limit);
    }
    Ok((within(output, limit)?, stop == Stop::Ended))
}

/// Output inflated at a time.
const INFLATE_CHUNK: usize = 32 << 10;

/// Why inflating stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// At the end of the deflate data, or past the limit.
    Ended,
    /// The input ran out first.
    Starved,
    /// The inflater refused the data (midway, or at the checksum after them).
    Failed,
}

/// Inflates `input` (zlib when `zlib`, else raw deflate) onto `output`, up to one byte past
/// `limit`; what inflated before it stopped stays in `output`.
fn inflate_into(input: &[u8], zlib: bool, output: &mut Vec<u8>, limit: usize) -> Stop {
    use flate2::{Decompress, FlushDecompress, Status};

    let cap = limit.saturating_add(1);
    let mut inflater = Decompress::new(zlib);
    let mut chunk = vec![0u8; INFLATE_CHUNK];
    loop {
        let (read, written) = (inflater.total_in(), inflater.total_out());
        let rest = usize::try_from(read)
            .ok()
            .and_then(|read| input.get(read..))
            .unwrap_or_default();
        let status = inflater.decompress(rest, &mut chunk, FlushDecompress::None);
        let produced = usize::try_from(inflater.total_out() - written).unwrap_or(usize::MAX);
        let kept = produced.min(chunk.len()).min(cap - output.len());
        output.extend_from_slice(&chunk[..kept]);
        match status {
            Ok(Status::StreamEnd) => return Stop::Ended,
            Ok(_) if output.len() >= cap => return Stop::Ended,
            Ok(_) if produced == 0 && inflater.total_in() == read => return Stop::Starved,
            Ok(_) => {}
            Err(_) => return Stop::Failed,
        }
    }
}

/// A writer that takes up to `limit` bytes and fails past them.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
    overflow: bool,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.limit {
            self.overflow = true;
            return Err(std::io::Error::other("stream data past the limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// LZWDecode as lopdf reads it (early change by default; what decodes before an error is kept).
fn lzw(input: &[u8], params: Option<&Dictionary>, limit: usize) -> Result<Vec<u8>, DecodeError> {
    use weezl::{BitOrder, decode::Decoder};
    const MIN_BITS: u8 = 9;

    let early_change = params
        .and_then(|p| p.get(b"EarlyChange").ok())
        .and_then(|p| p.as_i64().ok())
        .is_none_or(|v| v != 0);
    let mut decoder = if early_change {
        Decoder::with_tiff_size_switch(BitOrder::Msb, MIN_BITS - 1)
    } else {
        Decoder::new(BitOrder::Msb, MIN_BITS - 1)
    };
    let mut sink = Bounded {
        bytes: Vec::new(),
        limit,
        overflow: false,
    };
    let _ = decoder.into_stream(&mut sink).decode_all(input).status;
    if sink.overflow {
        return Err(DecodeError::TooLarge);
    }
    Ok(sink.bytes)
}

/// The PNG predictors (10 to 15) as lopdf applies them; their output is never larger than
/// their input.
fn predictor(data: Vec<u8>, params: Option<&Dictionary>) -> Result<Vec<u8>, DecodeError> {
    let Some(params) = params else {
        return Ok(data);
    };
    let get = |key: &[u8]| params.get(key).and_then(Object::as_i64);
    let predictor = get(b"Predictor").unwrap_or(1);
    if !(10..=15).contains(&predictor) {
        return Ok(data);
    }
    let columns = get(b"Columns").unwrap_or(1).max(1) as usize;
    let colors = get(b"Colors").unwrap_or(1).max(1) as usize;
    let bits = get(b"BitsPerComponent").unwrap_or(8).max(8) as usize;
    let bytes_per_pixel = colors.saturating_mul(bits) / 8;
    // No rows: nothing to undo. A row wider than the data is a read error in lopdf; refuse it
    // before allocating the row (lopdf allocates two, however wide).
    if data.is_empty() {
        return Ok(data);
    }
    if columns.saturating_mul(bytes_per_pixel) > data.len() {
        return Err(DecodeError::Unreadable);
    }
    lopdf::filters::png::decode_frame(&data, bytes_per_pixel, columns)
        .map_err(|_| DecodeError::Unreadable)
}

/// ASCII85Decode as lopdf reads it.
fn ascii85(input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut output = Vec::new();
    let (mut buffer, mut count) = (0u32, 0usize);
    let input = input.strip_suffix(b"~>").unwrap_or(input);
    let push = |output: &mut Vec<u8>, bytes: &[u8]| {
        if output.len() + bytes.len() > limit {
            return Err(DecodeError::TooLarge);
        }
        output.extend_from_slice(bytes);
        Ok(())
    };
    for &ch in input {
        if ch == b'z' {
            if count != 0 {
                return Err(DecodeError::Unreadable);
            }
            push(&mut output, &[0; 4])?;
            continue;
        }
        if ch.is_ascii_whitespace() {
            continue;
        }
        if !(b'!'..=b'u').contains(&ch) {
            break;
        }
        buffer = buffer
            .checked_mul(85)
            .ok_or(DecodeError::Unreadable)?
            .wrapping_add(u32::from(ch - b'!'));
        count += 1;
        if count == 5 {
            push(&mut output, &buffer.to_be_bytes())?;
            (buffer, count) = (0, 0);
        }
    }
    if count > 0 {
        for _ in count..5 {
            buffer = buffer
                .checked_mul(85)
                .ok_or(DecodeError::Unreadable)?
                .wrapping_add(84);
        }
        push(&mut output, &buffer.to_be_bytes()[..count - 1])?;
    }
    Ok(output)
}

/// ASCIIHexDecode: pairs of hex digits up to `>`, white space ignored, an odd last digit
/// followed by 0. Never larger than its input.
fn ascii_hex(input: &[u8]) -> Vec<u8> {
    let mut output = Vec::with_capacity(input.len() / 2);
    let mut high: Option<u8> = None;
    for &ch in input {
        let digit = match ch {
            b'>' => break,
            b'0'..=b'9' => ch - b'0',
            b'a'..=b'f' => ch - b'a' + 10,
            b'A'..=b'F' => ch - b'A' + 10,
            _ => continue,
        };
        match high.take() {
            Some(h) => output.push(h << 4 | digit),
            None => high = Some(digit),
        }
    }
    if let Some(h) = high {
        output.push(h << 4);
    }
    output
}

/// RunLengthDecode: a length byte `n` below 128 copies the next `n + 1` bytes, above 128
/// repeats the next byte `257 - n` times, 128 ends the data.
fn run_length(input: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut output = Vec::new();
    let mut i = 0;
    while let Some(&n) = input.get(i) {
        let (run, next) = match n {
            128 => break,
            0..=127 => {
                let end = (i + 2 + usize::from(n)).min(input.len());
                (input.get(i + 1..end).unwrap_or_default().to_vec(), end)
            }
            _ => match input.get(i + 1) {
                Some(&b) => (vec![b; 257 - usize::from(n)], i + 2),
                None => break,
            },
        };
        if output.len() + run.len() > limit {
            return Err(DecodeError::TooLarge);
        }
        output.extend_from_slice(&run);
        i = next;
    }
    Ok(output)
}

/// Zlib-compressed `bytes`, for tests.
#[cfg(test)]
pub(crate) fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(bytes)
        .unwrap_or_else(|e| panic!("zlib: {e}"));
    encoder.finish().unwrap_or_else(|e| panic!("zlib: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    fn stream(filter: Object, params: Option<Dictionary>, data: Vec<u8>) -> Stream {
        let mut dict = dictionary! { "Filter" => filter };
        if let Some(params) = params {
            dict.set("DecodeParms", params);
        }
        Stream::new(dict, data).with_compression(false)
    }

    /// The bytes lopdf decodes, where it decodes.
    fn same_as_lopdf(stream: &Stream) {
        let ours = decode(stream, usize::MAX >> 1);
        match stream.decompressed_content() {
            Ok(theirs) => assert_eq!(ours, Ok(theirs)),
            Err(_) => assert_eq!(ours, Err(DecodeError::Unreadable)),
        }
    }

    #[test]
    fn decodes_what_lopdf_decodes_alike() {
        let text = b"BT /F1 12 Tf 72 700 Td (Hello) Tj ET\n".repeat(50);
        let flate = zlib(&text);
        same_as_lopdf(&stream("FlateDecode".into(), None, flate.clone()));
        // A damaged header: raw deflate after it.
        let mut headless = flate.clone();
        headless[0] = 0;
        same_as_lopdf(&stream("FlateDecode".into(), None, headless));
        // Truncated.
        let n = flate.len();
        same_as_lopdf(&stream("FlateDecode".into(), None, flate[..n / 2].to_vec()));
        // A85, then Flate of A85, as an array.
        let a85 = b"9jqo^BlbD-BleB1DJ+*+F(f,q/0JhKF<GL>Cj@.4Gp$d7F!,L7@<6@)/0JDEF<G%<+EV:2F!,O<z~>";
        same_as_lopdf(&stream("ASCII85Decode".into(), None, a85.to_vec()));
        let both = Object::Array(vec!["FlateDecode".into(), "ASCII85Decode".into()]);
        same_as_lopdf(&stream(both, None, zlib(a85)));
        // PNG Up predictor over rows of 4 bytes.
        let rows = [[2u8, 1, 2, 3, 4], [2, 1, 1, 1, 1]].concat();
        let params = dictionary! { "Predictor" => 12, "Columns" => 4 };
        same_as_lopdf(&stream("FlateDecode".into(), Some(params), zlib(&rows)));
        // LZW (weezl's encoder, early change as in TIFF).
        let mut encoder = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
        let lzw = encoder.encode(&text).unwrap_or_default();
        same_as_lopdf(&stream("LZWDecode".into(), None, lzw));
        // An empty filter array decodes to nothing; a malformed one leaves the data as it is.
        same_as_lopdf(&stream(Object::Array(vec![]), None, flate.clone()));
        same_as_lopdf(&stream(Object::Array(vec![1.into()]), None, flate.clone()));
        same_as_lopdf(&stream("DCTDecode".into(), None, flate));
    }

    /// Deflate data that stop early, cut off or damaged, keep all that inflated before and say
    /// so (lopdf drops what its last read inflated before an error); whole data are complete,
    /// but not with a bad checksum after them (damaged: a bit flipped inflates to garbage).
    #[test]
    fn flate_data_that_stop_early_keep_what_inflated() {
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("({i} {}) Tj\n", i.wrapping_mul(2_654_435_761)).into_bytes())
            .collect();
        let flate = zlib(&text);
        let read = |data: Vec<u8>| {
            decode_prefix(&stream("FlateDecode".into(), None, data), usize::MAX >> 1)
                .unwrap_or_else(|e| panic!("{e:?}"))
        };
        let prefix = |data: Vec<u8>| {
            let decoded = read(data);
            assert!(text.starts_with(&decoded.bytes));
            decoded
        };
        let whole = prefix(flate.clone());
        assert_eq!((whole.bytes.len(), whole.complete), (text.len(), true));
        let n = flate.len();
        let mut checksum = flate.clone();
        checksum[n - 1] ^= 0xff;
        let checked = prefix(checksum);
        assert_eq!((checked.bytes.len(), checked.complete), (text.len(), false));
        // One bit flipped inside: wrong bytes that inflate to the end, refused by the checksum
        // alone, or refused midway; either way not complete, what inflated kept.
        for at in [n / 3, n / 2, 2 * n / 3] {
            for bit in 0..8 {
                let mut flipped = flate.clone();
                flipped[at] ^= 1 << bit;
                let decoded = read(flipped);
                assert!(!decoded.complete, "byte {at} bit {bit}");
                assert!(decoded.bytes.len() >= text.len() / 4, "byte {at} bit {bit}");
            }
        }
        let cut = prefix(flate[..n / 2].to_vec());
        assert!(
            !cut.complete && cut.bytes.len() > text.len() / 3,
            "{}",
            cut.bytes.len()
        );
        // Cut and followed by other bytes (which may inflate to a few wrong ones before the
        // inflater fails): no less than lopdf keeps.
        let followed = [
            &flate[..n / 2],
            b"\nendobj\nxref\n0 1\n0000000000 65535 f \n",
        ]
        .concat();
        let ours = read(followed.clone());
        let same = ours
            .bytes
            .iter()
            .zip(&text)
            .take_while(|(a, b)| a == b)
            .count();
        assert!(!ours.complete && same >= cut.bytes.len() - 64, "{same}");
        let theirs = Stream::new(dictionary! { "Filter" => "FlateDecode" }, followed)
            .decompressed_content()
            .unwrap_or_default();
        assert!(ours.bytes.len() >= theirs.len());
        assert!(prefix(Vec::new()).complete);
    }

    #[test]
    fn decodes_hex_and_run_length() {
        let hex = stream(
            "ASCIIHexDecode".into(),
            None,
            b"48 65\n6c6C 6F2>ff".to_vec(),
        );
        assert_eq!(decode(&hex, 100), Ok(b"Hello ".to_vec()));
        let runs = stream(
            "RunLengthDecode".into(),
            None,
            vec![1, b'a', b'b', 254, b'c', 128, 0, b'z'],
        );
        assert_eq!(decode(&runs, 100), Ok(b"abccc".to_vec()));
        assert_eq!(decode(&runs, 4), Err(DecodeError::TooLarge));
    }

    #[test]
    fn stops_at_the_limit() {
        let zeros = vec![0u8; 1 << 20];
        let flate = stream("FlateDecode".into(), None, zlib(&zeros));
        assert_eq!(decode(&flate, 1 << 20).map(|b| b.len()), Ok(1 << 20));
        assert_eq!(decode(&flate, (1 << 20) - 1), Err(DecodeError::TooLarge));
        // Each stage of an array is bounded: the inner Flate bomb inside the outer one.
        let twice = Object::Array(vec!["FlateDecode".into(), "FlateDecode".into()]);
        let nested = stream(twice, None, zlib(&zlib(&zeros)));
        assert_eq!(decode(&nested, 1000), Err(DecodeError::TooLarge));
        let mut encoder = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
        let lzw = encoder.encode(&zeros).unwrap_or_default();
        let lzw = stream("LZWDecode".into(), None, lzw);
        assert_eq!(decode(&lzw, 1000), Err(DecodeError::TooLarge));
        let a85 = stream("ASCII85Decode".into(), None, b"zzzz~>".to_vec());
        assert_eq!(decode(&a85, 15), Err(DecodeError::TooLarge));
        let raw = Stream::new(dictionary! {}, zeros);
        assert_eq!(decode(&raw, 1000), Err(DecodeError::TooLarge));
    }
}
