//! html: not written yet.

use crate::Context;
use trustmap_core::Report;

/// The report as html.
pub fn render(_report: &Report, _ctx: &Context) -> String {
    String::new()
}
