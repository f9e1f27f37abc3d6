//! Snapshot tests live in snapshots/tests/.
