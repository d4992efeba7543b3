//! telephone-event: TEMPORARY stub.
