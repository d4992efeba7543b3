//! g711: TEMPORARY stub, being written.
#![allow(missing_docs, clippy::new_without_default)]
use super::*;
use crate::error::CodecError;
pub struct PcmuDecoder { info: CodecInfo }
impl PcmuDecoder { pub fn new() -> PcmuDecoder { PcmuDecoder { info: CodecInfo::new(CodecKind::Pcmu, 8000, 1).unwrap_or_else(|_| unreachable!()) } } }
impl Decoder for PcmuDecoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn max_frames(&self) -> usize { 0 }
    fn frames_in(&self, _p: &[u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn decode(&mut self, _p: &[u8], _o: &mut [f32]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
pub struct PcmaDecoder { info: CodecInfo }
impl PcmaDecoder { pub fn new() -> PcmaDecoder { PcmaDecoder { info: CodecInfo::new(CodecKind::Pcmu, 8000, 1).unwrap_or_else(|_| unreachable!()) } } }
impl Decoder for PcmaDecoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn max_frames(&self) -> usize { 0 }
    fn frames_in(&self, _p: &[u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn decode(&mut self, _p: &[u8], _o: &mut [f32]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
pub struct PcmuEncoder { info: CodecInfo }
impl PcmuEncoder { pub fn new() -> PcmuEncoder { PcmuEncoder { info: CodecInfo::new(CodecKind::Pcmu, 8000, 1).unwrap_or_else(|_| unreachable!()) } } }
impl Encoder for PcmuEncoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn accepts_frames(&self, _f: usize) -> bool { false }
    fn max_payload(&self, _f: usize) -> usize { 0 }
    fn encode(&mut self, _p: &[f32], _o: &mut [u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
pub struct PcmaEncoder { info: CodecInfo }
impl PcmaEncoder { pub fn new() -> PcmaEncoder { PcmaEncoder { info: CodecInfo::new(CodecKind::Pcmu, 8000, 1).unwrap_or_else(|_| unreachable!()) } } }
impl Encoder for PcmaEncoder {
    fn info(&self) -> &CodecInfo { &self.info }
    fn accepts_frames(&self, _f: usize) -> bool { false }
    fn max_payload(&self, _f: usize) -> usize { 0 }
    fn encode(&mut self, _p: &[f32], _o: &mut [u8]) -> Result<usize, CodecError> { Err(CodecError::Unsupported("stub")) }
    fn reset(&mut self) {}
}
