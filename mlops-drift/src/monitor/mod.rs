//! Monitoring what the model does in production: performance once the ground truth arrives
//! ([`performance`]) and alert rules over any windowed value ([`alert`]).

pub mod alert;
pub mod performance;
