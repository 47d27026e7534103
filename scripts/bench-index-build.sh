#!/bin/bash
# Times building the indexes a bulk load drops (crates/trustmap-store/src/schema.rs:
# SECONDARY_INDEXES and BULK_LOAD_ALSO) with the sqlite3 shell, on a copy of a loaded
# inventory, after running the given PRAGMAs. Prints the seconds of each CREATE INDEX and of
# the COMMIT, and their sum. How the "sqlite3 shell" numbers in BENCHMARKS.md were taken:
#   ./target/release/examples/ingest 1000000 /tmp/inv1m.db 1
#   cp /tmp/inv1m.db /tmp/idx.db && sqlite3 /tmp/idx.db 'PRAGMA journal_mode=DELETE'
#   scripts/bench-index-build.sh /tmp/idx.db ''
#   scripts/bench-index-build.sh /tmp/idx.db 'PRAGMA threads=2; PRAGMA cache_size=-16384;'
# The copy is modified (its indexes are dropped and rebuilt); never point this at a real
# inventory.
set -euo pipefail
db=$1
pragmas=${2:-}
indexes=(
  "UNIQUE INDEX assets_id ON assets (id)"
  "INDEX assets_kind ON assets (kind, rid)"
  "INDEX assets_not_after ON assets (not_after, live) WHERE not_after IS NOT NULL"
  "INDEX assets_issuer ON assets (issuer, not_after, live) WHERE issuer IS NOT NULL"
  "INDEX assets_algorithm ON assets (algorithm, kind, live)"
  "INDEX occurrences_asset ON occurrences (asset_rid)"
  "INDEX occurrences_path ON occurrences (path)"
  "INDEX owners_name ON owners (name, role, explicit, asset_rid)"
  "INDEX owners_explicit ON owners (asset_rid) WHERE explicit = 1 AND role = 'owner'"
  "INDEX audit_events_at ON audit_events (at)"
)
drops="PRAGMA journal_mode=DELETE;"
creates=""
for i in "${indexes[@]}"; do
  name=$(sed -E 's/^(UNIQUE )?INDEX ([a-z_]+) .*/\2/' <<<"$i")
  drops+=" DROP INDEX IF EXISTS $name;"
  creates+="CREATE $i;"$'\n'
done
sqlite3 "$db" "$drops" >/dev/null
sqlite3 "$db" <<SQL | grep -o "real [0-9.]*" | awk '{s += $2; printf "%.2f ", $2} END {printf "sum %.2f\n", s}'
PRAGMA cache_size=-131072; PRAGMA temp_store=MEMORY; $pragmas
.timer on
BEGIN;
$creates
COMMIT;
SQL
