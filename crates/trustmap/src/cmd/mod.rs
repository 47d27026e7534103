//! One module per command: arguments, the call into the engine or the store, printing.

pub mod assets;
pub mod audit;
pub mod baseline;
pub mod diff;
pub mod impact;
pub mod owner;
pub mod pqc;
pub mod report;
pub mod rules;
pub mod scan;
pub mod scans;
pub mod serve;
pub mod show;
pub mod waivers;
