//! The `.npy` format (NumPy's own, version 1.0 written, 1.0 to 3.0 read): how arrays travel
//! between Rust and Python without text parsing or loss of precision.

use crate::error::{HprError, Result};

/// An element type that `.npy` files can hold, little-endian.
pub trait NpyElement: Copy + 'static {
    /// NumPy's name for it, e.g. `<f8` for `float64`.
    const DESCR: &'static str;
    /// Bytes per element.
    const SIZE: usize;
    /// Appends the element's bytes.
    fn write_le(self, out: &mut Vec<u8>);
    /// Reads one element from exactly `SIZE` bytes.
    fn read_le(bytes: &[u8]) -> Self;
}

macro_rules! npy_numbers {
    ($($type:ty => $descr:literal),* $(,)?) => {$(
        impl NpyElement for $type {
            const DESCR: &'static str = $descr;
            const SIZE: usize = std::mem::size_of::<$type>();
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn read_le(bytes: &[u8]) -> Self {
                <$type>::from_le_bytes(bytes.try_into().expect("SIZE bytes"))
            }
        }
    )*};
}

npy_numbers!(
    f64 => "<f8", f32 => "<f4", i64 => "<i8", i32 => "<i4", i16 => "<i2", i8 => "|i1",
    u64 => "<u8", u32 => "<u4", u16 => "<u2", u8 => "|u1",
);

impl NpyElement for bool {
    const DESCR: &'static str = "|b1";
    const SIZE: usize = 1;
    fn write_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    fn read_le(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// The bytes of a `.npy` file holding `values` in C order with `shape`.
pub(crate) fn encode<T: NpyElement>(values: &[T], shape: &[usize]) -> Result<Vec<u8>> {
    let count: usize = shape.iter().product();
    if count != values.len() {
        return Err(HprError::invalid(
            "shape",
            format!(
                "{shape:?} holds {count} values, but {} were given",
                values.len()
            ),
        ));
    }
    let dims: String = match shape {
        [one] => format!("{one},"),
        _ => shape
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({dims}), }}",
        T::DESCR
    );
    // The data starts at a multiple of 64 bytes; the header ends with a newline.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut bytes = Vec::with_capacity(unpadded + 64 + values.len() * T::SIZE);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[1, 0]);
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for &value in values {
        value.write_le(&mut bytes);
    }
    Ok(bytes)
}

/// The values (in C order) and shape of a `.npy` file's bytes; `what` names it in errors.
pub(crate) fn decode<T: NpyElement>(bytes: &[u8], what: &str) -> Result<(Vec<T>, Vec<usize>)> {
    let bad = |reason: String| HprError::invalid("npy", format!("{what}: {reason}"));
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not a .npy file (no \\x93NUMPY magic)".into()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (len as usize, 12)
        }
        version => return Err(bad(format!("unsupported .npy version {version}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .map(String::from_utf8_lossy)
        .ok_or_else(|| bad("the header is cut short".into()))?;
    let descr = header_value(&header, "descr").unwrap_or_default();
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    if descr != T::DESCR {
        return Err(bad(format!(
            "it holds {descr} values, but {} were asked for (convert on the Python side, \
             e.g. np.asarray(x, dtype=...))",
            T::DESCR
        )));
    }
    if header_value(&header, "fortran_order").as_deref() != Some("False") {
        return Err(bad(
            "it is in Fortran order; save np.ascontiguousarray(x)".into()
        ));
    }
    let shape_text = header_value(&header, "shape").unwrap_or_default();
    let shape: Vec<usize> = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse()
                .map_err(|_| bad(format!("unreadable shape {shape_text}")))
        })
        .collect::<Result<_>>()?;
    let count: usize = shape.iter().product();
    let data = &bytes[start + header_len..];
    if data.len() != count * T::SIZE {
        return Err(bad(format!(
            "shape {shape:?} needs {} bytes of data, the file has {}",
            count * T::SIZE,
            data.len()
        )));
    }
    let values = data.chunks_exact(T::SIZE).map(T::read_le).collect();
    Ok((values, shape))
}

/// The text after `'key':` in a header dict, up to the next top-level comma.
fn header_value(header: &str, key: &str) -> Option<String> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_each_shape() {
        let values = [1.5f64, -2.0, 3.25, 4.0, 5.0, 6.0];
        for shape in [vec![6], vec![2, 3], vec![1, 2, 3]] {
            let bytes = encode(&values, &shape).unwrap();
            assert_eq!((bytes.len() - values.len() * 8) % 64, 0);
            assert_eq!(
                decode::<f64>(&bytes, "x").unwrap(),
                (values.to_vec(), shape)
            );
        }
        let scalar = encode(&[7i64], &[]).unwrap();
        assert_eq!(decode::<i64>(&scalar, "x").unwrap(), (vec![7], vec![]));
        let flags = encode(&[true, false], &[2]).unwrap();
        assert_eq!(decode::<bool>(&flags, "x").unwrap().0, vec![true, false]);
    }

    #[test]
    fn reads_numpys_own_header() {
        // What np.save(f, np.arange(3, dtype=np.int32)) writes.
        let mut bytes = b"\x93NUMPY\x01\x00v\x00".to_vec();
        let header = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }";
        bytes.extend_from_slice(format!("{header:<117}\n").as_bytes());
        for value in [0i32, 1, 2] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        assert_eq!(
            decode::<i32>(&bytes, "x").unwrap(),
            (vec![0, 1, 2], vec![3])
        );
    }

    #[test]
    fn mismatches_are_clear_errors() {
        let bytes = encode(&[1i64, 2], &[2]).unwrap();
        let wrong_type = decode::<f64>(&bytes, "total").unwrap_err().to_string();
        assert!(
            wrong_type.contains("total: it holds <i8 values, but <f8"),
            "{wrong_type}"
        );
        assert!(decode::<f64>(b"not numpy", "x").is_err());
        assert!(encode(&[1.0f64], &[2, 2]).is_err());
        assert!(decode::<i64>(&bytes[..bytes.len() - 1], "x").is_err());
    }
}
