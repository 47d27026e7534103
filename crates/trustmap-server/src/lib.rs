//! trustmap-server: the HTTP API, remote ingest, web UI and metrics.
//!
//! Not built yet: a later issue fills it in.

#![forbid(unsafe_code)]
