//! csv: not written yet.

use crate::Context;
use trustmap_core::Report;

/// The report as csv.
pub fn render(_report: &Report, _ctx: &Context) -> String {
    String::new()
}
