//! sarif: not written yet.

use crate::Context;
use trustmap_core::Report;

/// The report as sarif.
pub fn render(_report: &Report, _ctx: &Context) -> String {
    String::new()
}
