//! Throughput of `RuleSet::scan` over ~100 MB of generated, source-like text.
//!
//! The corpus is built in memory from code, configuration and prose fragments (Rust,
//! Python, JavaScript, Go, YAML, JSON, .env, Markdown), cut into files of 4-64 KiB with
//! matching paths, so path-scoped rules and keyword-heavy text (token, password, secret,
//! key, URLs, `msg.`) are exercised. About one file in fifty carries a synthetic token.
//!
//! ```text
//! cargo run --release -p trustmap-discover --example secrets_throughput [-- MB]
//! ```

use std::time::Instant;

use trustmap_discover::secrets::{RuleSet, expand_template};

const RUST: &[&str] = &[
    "pub fn parse_token(input: &str) -> Result<Token, ParseError> {\n",
    "    let msg = format!(\"unexpected {} at {}\", self.msg.kind, self.pos);\n",
    "    for (i, key) in self.keys.iter().enumerate() {\n",
    "        if key.len() > MAX_KEY_LEN { return Err(Error::TooLong(i)); }\n",
    "    }\n",
    "impl Display for Secret { fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result { f.write_str(\"[redacted]\") } }\n",
    "    let path = Path::new(&config.path).join(\"cache\");\n",
    "    // See https://docs.rs/regex/latest/regex/ for the syntax.\n",
    "    let password_hash = argon2::hash_encoded(password.as_bytes(), &salt, &cfg)?;\n",
    "#[derive(Debug, Clone, Serialize, Deserialize)]\npub struct Settings { pub api_key_env: String, pub timeout_ms: u64 }\n",
    "    task_queue.push(Task::new(task_id, \"disk-usage\", priority));\n",
    "    let sig = hmac.finalize().into_bytes();\n",
];

const PYTHON: &[&str] = &[
    "def get_secret(name: str) -> str:\n    return os.environ[name]\n",
    "    token = request.headers.get(\"Authorization\", \"\").removeprefix(\"Bearer \")\n",
    "class PasswordResetView(View):\n    template_name = \"reset_password.html\"\n",
    "    logger.info(\"refreshing access token for %s\", user.id)\n",
    "import base64, hashlib, json\nfrom typing import Optional\n",
    "    resp = requests.post(f\"https://api.example.com/v1/{path}\", json=payload, timeout=10)\n",
    "    api_key = settings.API_KEY  # injected at deploy time\n",
    "    for i, row in enumerate(reader):\n        total += float(row[\"amount\"])\n",
];

const JS: &[&str] = &[
    "export async function fetchUser(id) {\n  const res = await fetch(`/api/users/${id}`);\n  return res.json();\n}\n",
    "const apiKey = process.env.STRIPE_SECRET_KEY;\n",
    "  if (!token || token.expiresAt < Date.now()) { await refreshToken(); }\n",
    "module.exports = { mode: 'production', devtool: 'source-map', entry: './src/index.js' };\n",
    "  <input type=\"password\" name=\"password\" autocomplete=\"current-password\" />\n",
    "const msg = { type: 'task-update', payload: { id, status } };\n",
];

const GO: &[&str] = &[
    "func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {\n",
    "\tsecret := os.Getenv(\"JWT_SECRET\")\n",
    "\tif err != nil {\n\t\treturn fmt.Errorf(\"load key %q: %w\", path, err)\n\t}\n",
    "\tclient := &http.Client{Timeout: 5 * time.Second}\n",
];

const YAML: &[&str] = &[
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\n",
    "        env:\n          - name: DB_PASSWORD\n            valueFrom:\n              secretKeyRef:\n                name: db-credentials\n                key: password\n",
    "  replicas: 3\n  strategy:\n    type: RollingUpdate\n",
    "    image: registry.example.com/web:1.42.0\n    ports:\n      - containerPort: 8080\n",
    "  password: \"{{ .Values.db.password }}\"\n  token: ${DEPLOY_TOKEN}\n",
    "logging:\n  level: info\n  format: json\n",
];

const JSON: &[&str] = &[
    "{\"name\": \"web\", \"version\": \"1.42.0\", \"private\": true,\n",
    "  \"dependencies\": {\"react\": \"^18.2.0\", \"axios\": \"^1.6.0\", \"jsonwebtoken\": \"^9.0.0\"},\n",
    "  \"scripts\": {\"build\": \"vite build\", \"test\": \"vitest run\"},\n",
    "  \"integrity\": \"sha512-Q3h7fFgG8e3k2Jx9pLmN0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2yZ3==\",\n",
];

const ENV: &[&str] = &[
    "NODE_ENV=production\nPORT=8080\nLOG_LEVEL=info\n",
    "DB_HOST=db.internal\nDB_USER=app\nDB_PASSWORD=${DB_PASSWORD}\n",
    "FEATURE_FLAGS=search,checkout\nCACHE_TTL=300\n",
];

const PROSE: &[&str] = &[
    "The access token expires after one hour; use the refresh token to obtain a new one.\n",
    "## Configuration\n\nSet `API_KEY` in your environment. Never commit secrets to the repository.\n",
    "Passwords are hashed with Argon2id. See the [security guide](https://example.com/security).\n",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.\n",
];

/// Synthetic tokens sprinkled into a few files (template-expanded, obviously fake).
const TOKENS: &[&str] = &[
    "GITHUB_TOKEN=ghp_«alnum*36»\n",
    "aws_access_key_id = AKIA«upper*16»\naws_secret_access_key = «b64*40»\n",
    "SLACK_BOT_TOKEN=xoxb-1234567890-9876543210-«alnum*24»\n",
    "DATABASE_URL=postgres://app:«alnum*20»@db.internal:5432/app\n",
    "STRIPE_SECRET_KEY=sk_live_«alnum*24»\n",
    "OPENAI_API_KEY=sk-proj-«b64url*74»T3BlbkFJ«b64url*74»\n",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// The generated corpus: (path, content) per file, about `mb` MiB in all.
pub fn corpus(mb: usize) -> Vec<(String, Vec<u8>)> {
    let target = mb << 20;
    let tokens: Vec<String> = TOKENS.iter().map(|t| expand_template(t)).collect();
    let kinds: [(&str, &[&str]); 8] = [
        ("rs", RUST),
        ("py", PYTHON),
        ("js", JS),
        ("go", GO),
        ("yaml", YAML),
        ("json", JSON),
        ("env", ENV),
        ("md", PROSE),
    ];
    let mut rng = Rng(0x5eed_cafe_f00d_beef);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total = 0;
    while total < target {
        let (ext, frags) = kinds[(rng.next() % kinds.len() as u64) as usize];
        let size = 4096 + (rng.next() % (60 << 10)) as usize;
        let mut body = Vec::with_capacity(size + 256);
        while body.len() < size {
            body.extend_from_slice(rng.pick(frags).as_bytes());
            if rng.next().is_multiple_of(7) {
                body.extend_from_slice(rng.pick(PROSE).as_bytes());
            }
        }
        if files.len().is_multiple_of(50) {
            let t = &tokens[(rng.next() % tokens.len() as u64) as usize];
            body.extend_from_slice(t.as_bytes());
        }
        total += body.len();
        let path = format!("src/module{}/file{}.{ext}", files.len() % 97, files.len());
        files.push((path, body));
    }
    files
}

fn main() {
    let mb: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let files = corpus(mb);
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    let set = RuleSet::builtin();
    println!(
        "{} rules; corpus: {} files, {:.1} MB",
        set.len(),
        files.len(),
        total as f64 / 1e6
    );
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut found = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let cpu = thread_cpu_seconds();
        found = 0;
        for (path, body) in &files {
            found += set.scan(body, path).len();
        }
        best = best.min(start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu, thread_cpu_seconds()) {
            best_cpu = best_cpu.min(b - a);
        }
    }
    let mb = total as f64 / 1e6;
    println!(
        "scan: {:.0} MB/s single-threaded wall clock (best of 5: {best:.3} s), {found} matches",
        mb / best
    );
    if best_cpu < f64::MAX {
        // On a busy machine the wall clock includes time the thread waited for a core.
        println!(
            "scan: {:.0} MB/s per CPU-second of the scanning thread (best of 5: {best_cpu:.3} s)",
            mb / best_cpu
        );
    }
}

/// CPU time of the calling thread (Linux: /proc/thread-self/schedstat, nanoseconds).
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}
