//! prometheus: not written yet.

use crate::Context;
use trustmap_core::Report;

/// The report as prometheus.
pub fn render(_report: &Report, _ctx: &Context) -> String {
    String::new()
}
