//! g722: TEMPORARY stub, being written.
#![allow(missing_docs, clippy::new_without_default)]
use super::*;
use crate::error::CodecError;
pub struct G722Decoder { info: CodecInfo }
impl G722Decoder { pub fn new() -> G722Decoder { G722Decoder { info: CodecInfo::new(CodecKind::Pcmu, 8000, 1).unwrap_or_else(|_| unreachable!()) } } }
impl Decoder for G722Decoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn max_frames(&self) -> usize { 0 }
    fn frames_in(&self, _p: &[u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn decode(&mut self, _p: &[u8], _o: &mut [f32]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
pub struct G722Encoder { info: CodecInfo }
impl G722Encoder { pub fn new() -> G722Encoder { G722Encoder { info: CodecInfo::new(CodecKind::Pcmu, 8000, 1).unwrap_or_else(|_| unreachable!()) } } }
impl Encoder for G722Encoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn accepts_frames(&self, _f: usize) -> bool { false }
    fn max_payload(&self, _f: usize) -> usize { 0 }
    fn encode(&mut self, _p: &[f32], _o: &mut [u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
