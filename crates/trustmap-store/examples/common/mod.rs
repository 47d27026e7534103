//! What the `ingest` and `query` examples share: the filters of `trustmap assets` they time.

use trustmap_store::AssetQuery;

/// The trustmap binary's allocator (see its Cargo.toml), so the numbers are the binary's.
/// (With glibc's, freeing a large answer also left the next query 0.2-0.4 s of merging
/// free chunks to do.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The five filters, as (the `trustmap assets` options, the query), on the generated
/// estate with "now" at 2026-11-01.
pub fn filters() -> Vec<(&'static str, AssetQuery)> {
    let now = "2026-11-01T00:00:00Z".to_string();
    vec![
        (
            "--expiring 30d",
            AssetQuery {
                expiring_before: Some("2026-12-01T00:00:00Z".into()),
                now: now.clone(),
                ..Default::default()
            },
        ),
        (
            "--owner team-7",
            AssetQuery {
                owner: Some("team-7".into()),
                ..Default::default()
            },
        ),
        (
            "--path 'svc7/*'",
            AssetQuery {
                path_glob: Some("svc7/*".into()),
                ..Default::default()
            },
        ),
        (
            "--issuer 'CA 3' --expired",
            AssetQuery {
                issuer: Some("CA 3".into()),
                expired: true,
                now: now.clone(),
                ..Default::default()
            },
        ),
        (
            "--quantum-vulnerable --kind certificate",
            AssetQuery {
                quantum_vulnerable: true,
                kind: Some("certificate".into()),
                ..Default::default()
            },
        ),
    ]
}
