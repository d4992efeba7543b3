//! rtp stub
