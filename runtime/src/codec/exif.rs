//! Just enough EXIF to find the orientation tag (0x0112) in IFD0.

/// Reads the orientation from an EXIF block (the APP1 payload after `Exif\0\0`,
/// i.e. starting at the TIFF header). None when absent or malformed.
pub fn orientation(tiff: &[u8]) -> Option<u16> {
    let le = match tiff.get(0..4)? {
        [b'I', b'I', 42, 0] => true,
        [b'M', b'M', 0, 42] => false,
        _ => return None,
    };
    let u16_at = |o: usize| -> Option<u16> {
        let b = tiff.get(o..o + 2)?;
        Some(if le { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) })
    };
    let u32_at = |o: usize| -> Option<u32> {
        let b = tiff.get(o..o + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) })
    };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    for i in 0..count.min(512) {
        let entry = ifd + 2 + i * 12;
        if u16_at(entry)? == 0x0112 {
            // Type SHORT, count 1: the value sits in the first two bytes of the field.
            let v = u16_at(entry + 8)?;
            return (1..=8).contains(&v).then_some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiff(le: bool, value: u16) -> Vec<u8> {
        let mut t = Vec::new();
        let u16b = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let u32b = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        t.extend_from_slice(if le { b"II*\0" } else { b"MM\0*" });
        t.extend_from_slice(&u32b(8));
        t.extend_from_slice(&u16b(2));
        // An unrelated tag first, then Orientation.
        t.extend_from_slice(&u16b(0x010F));
        t.extend_from_slice(&u16b(2));
        t.extend_from_slice(&u32b(4));
        t.extend_from_slice(&u32b(0));
        t.extend_from_slice(&u16b(0x0112));
        t.extend_from_slice(&u16b(3));
        t.extend_from_slice(&u32b(1));
        t.extend_from_slice(&u16b(value));
        t.extend_from_slice(&[0, 0]);
        t
    }

    #[test]
    fn reads_both_byte_orders() {
        assert_eq!(orientation(&tiff(true, 6)), Some(6));
        assert_eq!(orientation(&tiff(false, 8)), Some(8));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert_eq!(orientation(&tiff(true, 9)), None);
        assert_eq!(orientation(b"II*\0\xff\xff\xff\xff"), None);
        assert_eq!(orientation(b"nope"), None);
        let t = tiff(true, 6);
        for n in 0..t.len() {
            let _ = orientation(&t[..n]);
        }
    }
}
