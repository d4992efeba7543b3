//! Stream builders and players that need voxlet's codecs and RTP writer
//! (feature `voxlet`).

pub mod bench;
pub mod drifting;
pub mod opus_script;
