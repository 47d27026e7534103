//! The store glue: every call the engine makes to `trustmap-store` is in this module, so a
//! change of the store's API is adapted here. The engine never opens a store: the caller
//! opens one handle per request and lends it to the pipeline.

use crate::Error;
use crate::pipeline::ScanRoot;
use std::collections::{BTreeMap, HashMap};
use trustmap_core::{AssetKind, Owner, Report};
use trustmap_store::{NewWaiver, ScanMeta, ScanRecord, Store, WaiverRow};

/// The handle the pipeline borrows for one request.
pub type StoreHandle<'a> = &'a Store;

/// When each of `ids` was first seen, as the store has it (RFC 3339); ids the inventory has
/// never seen are absent (an empty inventory: no history). A store that fails is an error.
pub fn first_seen(
    store: StoreHandle<'_>,
    ids: &[String],
) -> Result<BTreeMap<String, String>, Error> {
    let rows = store.first_seen(ids).map_err(|source| Error::Store {
        context: "reading the inventory's history (key age)",
        source,
    })?;
    Ok(rows.into_iter().collect())
}

/// The inventory's present, unexpired certificates for `names`, for the stale-certificate
/// rule (see [`trustmap_store::Store::certificates_named`] for its bounds).
pub fn known_certificates(
    store: StoreHandle<'_>,
    names: &[String],
    now: time::OffsetDateTime,
) -> Result<Vec<trustmap_core::policy::KnownCertificate>, Error> {
    let rows = store
        .certificates_named(names, &trustmap_core::rfc3339(now))
        .map_err(|source| Error::Store {
            context: "reading the inventory's certificates for the served names",
            source,
        })?;
    Ok(rows
        .into_iter()
        .map(|r| trustmap_core::policy::KnownCertificate {
            id: r.id,
            certificate: r.certificate,
            place: r.place,
        })
        .collect())
}

/// The explicit owners of each of `assets` that has any: its own (source `explicit`), and
/// the owner rules' for the places this scan saw it at on `host` (source `rule:ID`).
pub fn explicit_owners(
    store: StoreHandle<'_>,
    assets: &[trustmap_core::Asset],
    host: &str,
) -> Result<HashMap<String, Vec<Owner>>, Error> {
    store
        .scan_owners(assets, host)
        .map_err(|source| Error::Store {
            context: "reading explicit owners",
            source,
        })
}

/// The key the inventory's secret fingerprints are made with (for the scanner only).
pub fn secret_fingerprint_key(
    store: StoreHandle<'_>,
) -> Result<[u8; trustmap_store::SECRET_KEY_LEN], Error> {
    store
        .secret_fingerprint_key()
        .map_err(|source| Error::Store {
            context: "reading the inventory's secret-fingerprint key",
            source,
        })
}

/// The kind of an asset in the inventory.
pub fn asset_kind(store: StoreHandle<'_>, id: &str) -> Result<AssetKind, Error> {
    store.asset_kind(id).map_err(|source| Error::Store {
        context: "reading the asset",
        source,
    })
}

/// Records a waiver (the store refuses a second one in force for the same rule and asset).
pub fn grant_waiver(store: StoreHandle<'_>, w: &NewWaiver) -> Result<WaiverRow, Error> {
    store.grant_waiver(w).map_err(|source| Error::Store {
        context: "recording the waiver",
        source,
    })
}

/// Every waiver: active, expired and revoked.
pub fn waivers(store: StoreHandle<'_>) -> Result<Vec<WaiverRow>, Error> {
    store.waivers().map_err(|source| Error::Store {
        context: "reading waivers",
        source,
    })
}

/// Records a finished scan in one transaction.
pub fn record(
    store: StoreHandle<'_>,
    report: &Report,
    roots: &[ScanRoot],
    finished_at: &str,
) -> Result<ScanRecord, Error> {
    let meta = ScanMeta {
        host: report.scan.host.clone(),
        roots: roots
            .iter()
            .map(|r| trustmap_store::ScanRoot {
                given: r.given.clone(),
                canonical: r.canonical.clone(),
            })
            .collect(),
        finished_at: finished_at.to_string(),
    };
    // Test hook (feature `test-hooks` only): the bulk-load path on a small scan.
    #[cfg(feature = "test-hooks")]
    if let Some(n) = std::env::var("TRUSTMAP_TEST_BULK_LOAD")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        store.set_bulk_load_threshold(n);
    }
    let pending = store
        .begin_scan(report, &meta)
        .map_err(|source| Error::Store {
            context: "recording the scan",
            source,
        })?;
    // Test hook (feature `test-hooks` only): die with the transaction open, as a killed
    // scan would.
    #[cfg(feature = "test-hooks")]
    if std::env::var_os("TRUSTMAP_TEST_ABORT_BEFORE_COMMIT").is_some() {
        std::process::abort();
    }
    // Test hook (feature `test-hooks` only): hold the written, uncommitted scan (and the
    // write lock) until the test says go, so other processes can be run against it.
    #[cfg(feature = "test-hooks")]
    if let Some(dir) = std::env::var_os("TRUSTMAP_TEST_PAUSE_BEFORE_COMMIT") {
        pause(std::path::Path::new(&dir));
    }
    pending.commit().map_err(|source| Error::Store {
        context: "committing the scan",
        source,
    })
}

/// Creates `dir/paused`, then waits until `dir/go` exists (at most five minutes).
#[cfg(feature = "test-hooks")]
fn pause(dir: &std::path::Path) {
    let _ = std::fs::write(dir.join("paused"), b"");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !dir.join("go").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
