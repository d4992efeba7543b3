//! opus: TEMPORARY stub, being written.
#![allow(missing_docs, clippy::new_without_default)]
use super::*;
use crate::error::CodecError;
pub struct OpusDecoder { info: CodecInfo }
impl OpusDecoder { pub fn new(info: CodecInfo) -> Result<OpusDecoder, CodecError> { Ok(OpusDecoder { info: info }) } }
impl Decoder for OpusDecoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn max_frames(&self) -> usize { 0 }
    fn frames_in(&self, _p: &[u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn decode(&mut self, _p: &[u8], _o: &mut [f32]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
pub struct OpusEncoder { info: CodecInfo }
impl OpusEncoder { pub fn new(info: CodecInfo, _s: &EncoderSettings) -> Result<OpusEncoder, CodecError> { Ok(OpusEncoder { info: info }) } }
impl Encoder for OpusEncoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn accepts_frames(&self, _f: usize) -> bool { false }
    fn max_payload(&self, _f: usize) -> usize { 0 }
    fn encode(&mut self, _p: &[f32], _o: &mut [u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
