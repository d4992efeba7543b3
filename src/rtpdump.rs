//! rtpdump stub
