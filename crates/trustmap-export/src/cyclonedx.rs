//! cyclonedx: not written yet.

use crate::Context;
use trustmap_core::Report;

/// The report as cyclonedx.
pub fn render(_report: &Report, _ctx: &Context) -> String {
    String::new()
}
