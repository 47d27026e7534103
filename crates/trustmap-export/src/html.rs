//! html: not written yet (the CLI does not offer `--format html` until it is; issue 15).

use crate::Context;
use trustmap_core::Report;

/// The report as html.
pub fn render(_report: &Report, _ctx: &Context) -> String {
    String::new()
}
