//! l16: TEMPORARY stub, being written.
#![allow(missing_docs, clippy::new_without_default)]
use super::*;
use crate::error::CodecError;
pub struct L16Decoder { info: CodecInfo }
impl L16Decoder { pub fn new(info: CodecInfo) -> L16Decoder { L16Decoder { info: info } } }
impl Decoder for L16Decoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn max_frames(&self) -> usize { 0 }
    fn frames_in(&self, _p: &[u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn decode(&mut self, _p: &[u8], _o: &mut [f32]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
pub struct L16Encoder { info: CodecInfo }
impl L16Encoder { pub fn new(info: CodecInfo) -> L16Encoder { L16Encoder { info: info } } }
impl Encoder for L16Encoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn accepts_frames(&self, _f: usize) -> bool { false }
    fn max_payload(&self, _f: usize) -> usize { 0 }
    fn encode(&mut self, _p: &[f32], _o: &mut [u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
