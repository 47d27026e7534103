//! A bounds-checked big-endian reader over untrusted bytes, shared by the JKS/JCEKS and
//! Java-serialization readers.

use super::*;

/// A bounds-checked big-endian reader.
pub(super) struct Reader<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| err("keystore: truncated"))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub(super) fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.bytes(1)?[0])
    }
    pub(super) fn u16(&mut self) -> Result<u16, ParseError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    pub(super) fn u32(&mut self) -> Result<u32, ParseError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(super) fn u64(&mut self) -> Result<u64, ParseError> {
        let hi = u64::from(self.u32()?);
        Ok((hi << 32) | u64::from(self.u32()?))
    }
    /// Java's DataOutput.writeUTF: u16 length + modified UTF-8.
    pub(super) fn utf(&mut self) -> Result<String, ParseError> {
        let n = self.u16()? as usize;
        Ok(String::from_utf8_lossy(self.bytes(n)?).into_owned())
    }
    /// u32 length + bytes.
    pub(super) fn blob(&mut self) -> Result<&'a [u8], ParseError> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
}
