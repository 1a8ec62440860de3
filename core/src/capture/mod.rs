//! Capture file reading (placeholder, being written).
