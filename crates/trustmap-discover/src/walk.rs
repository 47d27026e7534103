//! The file-tree source: a parallel walk (the `ignore` crate's walker, as in ripgrep), one
//! read per file, the [`Scanner`] on each file's bytes, and the results streamed to the one
//! thread that called [`Source::run`], which hands them to the [`Sink`]. The walker does not
//! deduplicate: the driver's sink does (see [`crate::source`]).
//!
//! Everything is scanned by default — hidden and git-ignored files included, since `.env`
//! files are usually ignored and that is where secrets live — except `.git/` internals.

use crate::owners::CodeOwners;
use crate::scan::{FileResult, Scanner};
use crate::source::{OwnerHints, Sink, Source};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use trustmap_core::ScanError;

pub use crate::source::Progress;

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

    /// One [`FileTree`] source per root; with several roots, paths are prefixed with their
    /// root so places stay apart.
    pub fn sources(&self) -> Vec<FileTree> {
        let multi = self.roots.len() > 1;
        self.roots
            .iter()
            .map(|r| {
                let mut t = FileTree::new(r.clone(), self);
                if multi {
                    t.prefix = t.name.clone();
                }
                t
            })
            .collect()
    }
}

/// One directory or file, walked in parallel.
#[derive(Debug, Clone)]
pub struct FileTree {
    root: PathBuf,
    /// The root with forward slashes and no trailing slash: `Occurrence.root`.
    name: String,
    /// Prepended to every path (`prefix/rel`), empty for a single-root scan.
    prefix: String,
    opts: WalkOptions,
}

impl FileTree {
    /// The tree under `root`, walked as `opts` says (its `roots` are ignored); paths are
    /// relative to `root`.
    pub fn new(root: PathBuf, opts: &WalkOptions) -> Self {
        FileTree {
            name: display_root(&root),
            prefix: String::new(),
            opts: WalkOptions {
                roots: Vec::new(),
                ..opts.clone()
            },
            root,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

enum Msg {
    File(String, FileResult),
    Error(String, String),
}

impl Source for FileTree {
    fn name(&self) -> &str {
        &self.name
    }

    fn given(&self) -> String {
        self.root.to_string_lossy().replace('\\', "/")
    }

    fn canonical(&self) -> String {
        std::fs::canonicalize(&self.root)
            .unwrap_or_else(|_| self.root.clone())
            .to_string_lossy()
            .replace('\\', "/")
    }

    fn run(&self, scanner: &Scanner, progress: &Progress, sink: &mut dyn Sink) {
        if let Some(codeowners) = CodeOwners::load(&self.root) {
            sink.owners(OwnerHints {
                prefix: self.prefix.clone(),
                codeowners,
            });
        }
        if let Err(e) = std::fs::metadata(&self.root) {
            sink.error(ScanError {
                path: self.name.clone(),
                error: format!("cannot read scan root: {e}"),
            });
            return;
        }
        let (tx, rx) = mpsc::sync_channel::<Msg>(1024);
        std::thread::scope(|s| {
            s.spawn(|| walk_root(&self.root, &self.prefix, &self.opts, scanner, progress, tx));
            for msg in rx {
                match msg {
                    Msg::File(path, result) => {
                        for error in result.errors {
                            sink.error(ScanError {
                                path: path.clone(),
                                error,
                            });
                        }
                        for f in result.found {
                            sink.found(f);
                        }
                    }
                    Msg::Error(path, error) => sink.error(ScanError { path, error }),
                }
            }
        });
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
    progress.add_file(n as u64);
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
