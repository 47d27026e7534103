//! The file-tree source: a parallel walk (the `ignore` crate's walker, as in ripgrep), one
//! read per file, the [`Scanner`] on each file's bytes, and the results streamed to one
//! thread that deduplicates them into the [`Inventory`].
//!
//! Everything is scanned by default — hidden and git-ignored files included, since `.env`
//! files are usually ignored and that is where secrets live — except `.git/` internals.

use crate::inventory::Inventory;
use crate::owners::CodeOwners;
use crate::scan::{FileResult, Scanner};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use trustmap_core::{Asset, Relation, ScanError};

/// Files larger than this are read and scanned in chunks of this size (with overlap), so
/// memory stays flat whatever the tree holds.
pub const CHUNK: usize = 32 << 20;
/// Overlap between chunks, so material on a chunk boundary is still seen whole.
const OVERLAP: usize = 1 << 20;

/// What to walk and how.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub roots: Vec<PathBuf>,
    /// Skip what `.gitignore`, `.git/info/exclude` and `.ignore` files exclude.
    pub respect_gitignore: bool,
    /// Follow symbolic links (loops are detected and reported as errors).
    pub follow_symlinks: bool,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
}

impl WalkOptions {
    pub fn new(roots: Vec<PathBuf>) -> Self {
        WalkOptions {
            roots,
            respect_gitignore: false,
            follow_symlinks: false,
            threads: 0,
        }
    }
}

/// Live counters, readable from another thread for a progress bar.
#[derive(Debug, Default)]
pub struct Progress {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub found: AtomicU64,
}

/// The result of walking every root.
#[derive(Debug, Default)]
pub struct WalkOutput {
    pub assets: Vec<Asset>,
    pub relations: Vec<Relation>,
    pub errors: Vec<ScanError>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
}

enum Msg {
    File(String, FileResult),
    Error(String, String),
}

/// Walks the roots, scans every file and returns the deduplicated inventory.
pub fn walk(opts: &WalkOptions, scanner: &Scanner, progress: &Progress) -> WalkOutput {
    let multi = opts.roots.len() > 1;
    let mut codeowners: Vec<(String, CodeOwners)> = Vec::new();
    let mut inventory = Inventory::new();
    let mut errors = Vec::new();
    for root in &opts.roots {
        let prefix = if multi {
            display_root(root)
        } else {
            String::new()
        };
        let root_name = display_root(root);
        if let Some(co) = CodeOwners::load(root) {
            codeowners.push((prefix.clone(), co));
        }
        if let Err(e) = std::fs::metadata(root) {
            errors.push(ScanError {
                path: display_root(root),
                error: format!("cannot read scan root: {e}"),
            });
            continue;
        }
        let (tx, rx) = mpsc::sync_channel::<Msg>(1024);
        std::thread::scope(|s| {
            s.spawn(|| walk_root(root, &prefix, opts, scanner, progress, tx));
            for msg in rx {
                match msg {
                    Msg::File(path, result) => {
                        for e in result.errors {
                            errors.push(ScanError {
                                path: path.clone(),
                                error: e,
                            });
                        }
                        for mut f in result.found {
                            f.set_root(&root_name);
                            inventory.add(f);
                        }
                        progress
                            .found
                            .store(inventory.len() as u64, Ordering::Relaxed);
                    }
                    Msg::Error(path, error) => errors.push(ScanError { path, error }),
                }
            }
        });
    }
    let (assets, relations) = inventory.finish(&codeowners);
    errors.sort();
    WalkOutput {
        assets,
        relations,
        errors,
        files_scanned: progress.files.load(Ordering::Relaxed),
        bytes_scanned: progress.bytes.load(Ordering::Relaxed),
    }
}

fn display_root(root: &Path) -> String {
    let s = root.to_string_lossy().replace('\\', "/");
    let s = s.trim_end_matches('/');
    if s.is_empty() {
        "/".into()
    } else {
        s.to_string()
    }
}

fn walk_root(
    root: &Path,
    prefix: &str,
    opts: &WalkOptions,
    scanner: &Scanner,
    progress: &Progress,
    tx: mpsc::SyncSender<Msg>,
) {
    let g = opts.respect_gitignore;
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(false)
        .ignore(g)
        .git_ignore(g)
        .git_exclude(g)
        .git_global(g)
        .parents(g)
        .require_git(false)
        .follow_links(opts.follow_symlinks)
        .threads(opts.threads)
        .filter_entry(|e| e.file_name() != ".git");
    let root_is_file = root.is_file();
    builder.build_parallel().run(|| {
        let tx = tx.clone();
        let mut buf: Vec<u8> = Vec::new();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let path = error_path(&err)
                        .map_or_else(String::new, |p| rel_path(root, prefix, root_is_file, p).0);
                    let _ = tx.send(Msg::Error(path, walk_error_message(&err)));
                    return ignore::WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let (path, lossy) = rel_path(root, prefix, root_is_file, entry.path());
            if lossy {
                let _ = tx.send(Msg::Error(
                    path.clone(),
                    "file name is not valid UTF-8; shown with replacement characters".into(),
                ));
            }
            let result = scan_path(entry.path(), &path, scanner, progress, &mut buf);
            let msg = match result {
                Ok(r) if r.found.is_empty() && r.errors.is_empty() => {
                    return ignore::WalkState::Continue;
                }
                Ok(r) => Msg::File(path, r),
                Err(e) => Msg::Error(path, e),
            };
            if tx.send(msg).is_err() {
                return ignore::WalkState::Quit;
            }
            ignore::WalkState::Continue
        })
    });
}

/// Reads and scans one file; large files in overlapping chunks.
fn scan_path(
    fs_path: &Path,
    path: &str,
    scanner: &Scanner,
    progress: &Progress,
    buf: &mut Vec<u8>,
) -> Result<FileResult, String> {
    let mut file = std::fs::File::open(fs_path).map_err(|e| format!("cannot open: {e}"))?;
    buf.clear();
    let n = (&mut file)
        .take(CHUNK as u64)
        .read_to_end(buf)
        .map_err(|e| format!("cannot read: {e}"))?;
    progress.files.fetch_add(1, Ordering::Relaxed);
    progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
    if n < CHUNK {
        let r = scanner.scan_file(path, buf);
        shrink(buf);
        return Ok(r);
    }
    // Large file: scan chunk by chunk, carrying an overlap and fixing offsets and lines.
    let mut out = FileResult::default();
    let mut chunk_start = 0usize; // file offset of buf[0]
    let mut lines_before = 0u64; // newlines before buf[0]
    loop {
        let mut r = scanner.scan_file(path, buf);
        for f in &mut r.found {
            relocate(f, chunk_start, lines_before);
        }
        out.found.extend(r.found);
        out.errors.extend(r.errors);
        if buf.len() < CHUNK {
            break;
        }
        // Keep the overlap, read the next piece after it.
        let keep_from = buf.len() - OVERLAP;
        lines_before += memchr::memchr_iter(b'\n', &buf[..keep_from]).count() as u64;
        chunk_start += keep_from;
        buf.drain(..keep_from);
        let want = (CHUNK - buf.len()) as u64;
        let got = (&mut file)
            .take(want)
            .read_to_end(buf)
            .map_err(|e| format!("cannot read: {e}"))?;
        progress.bytes.fetch_add(got as u64, Ordering::Relaxed);
        if got == 0 {
            break;
        }
    }
    // Items wholly inside an overlap are seen twice; the inventory dedups by place.
    shrink(buf);
    Ok(out)
}

fn relocate(f: &mut crate::Found, chunk_start: usize, lines_before: u64) {
    if let Some(o) = f.occurrence.offset.as_mut() {
        *o += chunk_start as u64;
    }
    if let Some(l) = f.occurrence.line.as_mut() {
        *l += lines_before;
    }
    for c in &mut f.children {
        relocate(c, chunk_start, lines_before);
    }
}

/// Gives memory back after an unusually large file, so peak RSS stays flat.
fn shrink(buf: &mut Vec<u8>) {
    if buf.capacity() > 4 << 20 {
        *buf = Vec::new();
    }
}

/// Path relative to the root, forward slashes; true when the name was not valid UTF-8.
fn rel_path(root: &Path, prefix: &str, root_is_file: bool, p: &Path) -> (String, bool) {
    let rel = if root_is_file {
        p.file_name().map(Path::new).unwrap_or(p)
    } else {
        p.strip_prefix(root).unwrap_or(p)
    };
    let lossy = rel.to_str().is_none();
    let mut s = rel.to_string_lossy().replace('\\', "/");
    if !prefix.is_empty() {
        s = format!("{prefix}/{s}");
    }
    (s, lossy)
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

fn walk_error_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            walk_error_message(err)
        }
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop back to {}", ancestor.display())
        }
        other => other.to_string(),
    }
}
