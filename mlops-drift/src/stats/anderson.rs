//! Placeholder: filled in by the batch statistics work (issue 3).
