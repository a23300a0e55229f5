//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` in a temporary directory, a `postgres` on a free
//! port of 127.0.0.1 with trust authentication, and all of it stopped and removed again when the cluster is dropped.
//!
//! It uses the machine's own server binaries (Debian's `/usr/lib/postgresql/<version>/bin`, or `PATH`) and depends
//! only on `std` and `tempfile`, because both the test binary and a benchmark include this file. PostgreSQL refuses
//! to run as root, so under root the cluster runs as the `postgres` system user.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, PipeWriter};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How many times a start tries a new port when another process took the free one first.
const START_ATTEMPTS: usize = 5;
/// How long a new server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a new server is asked whether it accepts connections.
const READY_POLL: Duration = Duration::from_millis(50);
/// The line of `postmaster.pid` (from 0) that tells the server's status, "ready" once it accepts connections.
const PID_FILE_STATUS_LINE: usize = 7;
/// The server's log file, in the cluster's directory.
const LOG: &str = "postgres.log";
/// How many lines of the server's log an error quotes.
const LOG_TAIL_LINES: usize = 20;

/// The shell script of a cluster's watchdog (`$1` the server's process id, `$2` the cluster's directory): once its
/// standard input closes, it sends the server a fast shutdown (SIGINT), waits for it to end and removes the directory.
/// The cluster closes that input when dropped, and the system closes it when this process ends without dropping the
/// cluster (one kept in a static, a killed test binary), so a server never outlives the process that started it.
const WATCHDOG: &str = r#"
trap '' HUP INT TERM
read -r line
kill -INT "$1" 2>/dev/null
while [ -e "$2/data/postmaster.pid" ] && kill -0 "$1" 2>/dev/null; do sleep 0.05; done
rm -rf "$2"
"#;

/// A PostgreSQL cluster of its own in a temporary directory, stopped and removed when dropped.
pub struct Cluster {
    bin: PathBuf,
    port: u16,
    server: Child,
    watchdog: Child,
    /// The watchdog's standard input: closing it stops the server.
    trigger: Option<PipeWriter>,
    dir: tempfile::TempDir,
}

/// A system user to run the server as.
#[derive(Clone, Copy)]
struct User {
    uid: u32,
    gid: u32,
}

impl Cluster {
    /// The directory holding initdb and postgres (and the psql and pg_isready this module runs), if PostgreSQL's
    /// server binaries are on this machine: Debian's, highest version first, then those on `PATH`.
    pub fn binaries() -> Option<PathBuf> {
        debian_bin_dirs().into_iter().chain(path_dirs()).find_map(|dir| server_bin(&dir))
    }

    /// Starts a new cluster in a temporary directory on a free port of 127.0.0.1, with trust authentication and the
    /// superuser `postgres`. Not `durable`, it runs with fsync, synchronous_commit and full_page_writes off (fast,
    /// for tests); `durable`, it keeps PostgreSQL's defaults (for benchmarks).
    pub fn start(durable: bool) -> io::Result<Cluster> {
        let bin = Self::binaries().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "no PostgreSQL server binaries (initdb, postgres) on this machine")
        })?;
        let mut attempt = 1;
        loop {
            match Self::start_once(&bin, durable) {
                Err(error) if error.kind() == io::ErrorKind::AddrInUse && attempt < START_ATTEMPTS => attempt += 1,
                result => return result,
            }
        }
    }

    /// The port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL of the form `postgres://postgres@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates an empty database named `name` and returns its URL.
    ///
    /// Panics unless `name` is 1 to 63 of `a-z`, `0-9` and `_`.
    pub fn create_database(&self, name: &str) -> io::Result<String> {
        assert!(is_plain_name(name), "database name {name:?} is not 1 to 63 of a-z, 0-9 and _");
        let sql = format!("CREATE DATABASE \"{name}\"");
        self.psql("postgres", &sql)?;
        Ok(self.url(name))
    }

    /// The directory of PostgreSQL's binaries, for callers that run pgbench and the like.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// The process id of the cluster's postmaster, the parent of every backend (to measure the server's CPU time).
    pub fn server_pid(&self) -> u32 {
        self.server.id()
    }

    /// What `sql` answers in `database`, unaligned and without headers (`psql -A -t`), trimmed.
    pub fn query(&self, database: &str, sql: &str) -> io::Result<String> {
        let output = pg_command(&self.bin, "psql", None)
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", &self.url(database), "-c", sql])
            .output()?;
        Ok(String::from_utf8_lossy(&succeeded("psql", output)?.stdout).trim().to_owned())
    }

    /// Runs pgbench with `args` on `database`, as psql is run (over TCP as `postgres`, without the caller's `PG*`
    /// settings): its output, or an error with its standard error when it fails.
    pub fn pgbench<I, S>(&self, database: &str, args: I) -> io::Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let port = self.port.to_string();
        let output = pg_command(&self.bin, "pgbench", None)
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
            .args(args)
            .arg(database)
            .output()?;
        succeeded("pgbench", output)
    }

    /// One attempt at a start, on one free port; an `AddrInUse` error when another process took it first.
    fn start_once(bin: &Path, durable: bool) -> io::Result<Cluster> {
        let dir = tempfile::Builder::new().prefix("pg-cluster-").tempdir()?;
        let user = server_user(dir.path())?;
        if let Some(user) = user {
            std::os::unix::fs::chown(dir.path(), Some(user.uid), Some(user.gid))?;
        }
        init(bin, dir.path(), user)?;
        let port = free_port()?;
        let mut server = serve(bin, dir.path(), user, port, durable)?;
        let (watchdog, trigger) = match watch(server.id(), dir.path()) {
            Ok(watchdog) => watchdog,
            Err(error) => {
                let _ = server.kill();
                let _ = server.wait();
                return Err(error);
            }
        };
        let mut cluster = Cluster { bin: bin.to_path_buf(), port, server, watchdog, trigger: Some(trigger), dir };
        cluster.wait_until_ready()?;
        Ok(cluster)
    }

    /// Waits until the server says it accepts connections and pg_isready agrees, or fails with the end of its log if
    /// it ends or takes too long. Its own word comes first because pg_isready cannot tell whose server answers on the
    /// port, and waits 2 s on a port taken by something other than PostgreSQL.
    fn wait_until_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while !self.says_ready() {
            if let Some(status) = self.server.try_wait()? {
                return Err(self.failure(&format!("postgres ended ({status})")));
            }
            if Instant::now() >= deadline {
                return Err(self.failure(&format!("postgres did not accept connections within {READY_TIMEOUT:?}")));
            }
            thread::sleep(READY_POLL);
        }
        if !self.accepts_connections()? {
            return Err(self.failure("postgres says it accepts connections, but pg_isready cannot reach it"));
        }
        Ok(())
    }

    /// Whether the server says in its `postmaster.pid` that it accepts connections, as `pg_ctl start --wait` asks.
    fn says_ready(&self) -> bool {
        let Ok(pid_file) = fs::read_to_string(self.dir.path().join("data").join("postmaster.pid")) else {
            return false;
        };
        let lines: Vec<&str> = pid_file.lines().collect();
        let ours = lines.first().is_some_and(|pid| *pid == self.server.id().to_string());
        ours && lines.get(PID_FILE_STATUS_LINE).is_some_and(|status| status.trim() == "ready")
    }

    /// Whether the server accepts connections, as `pg_isready` sees it.
    fn accepts_connections(&self) -> io::Result<bool> {
        let port = self.port.to_string();
        let status = pg_command(&self.bin, "pg_isready", None)
            .args(["-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", "postgres", "-t", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        Ok(status.success())
    }

    /// An error saying `what` happened, with the end of the server's log; `AddrInUse` when the port was taken.
    fn failure(&self, what: &str) -> io::Error {
        let log = fs::read(self.dir.path().join(LOG)).unwrap_or_default();
        let log = String::from_utf8_lossy(&log);
        let kind = if log.contains("Address already in use") { io::ErrorKind::AddrInUse } else { io::ErrorKind::Other };
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
        io::Error::new(kind, format!("{what}; the end of its log:\n{tail}"))
    }

    /// Runs `sql` in `database` with psql.
    fn psql(&self, database: &str, sql: &str) -> io::Result<Output> {
        let output = pg_command(&self.bin, "psql", None)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &self.url(database), "-c", sql])
            .output()?;
        succeeded("psql", output)
    }
}

impl Drop for Cluster {
    /// Closes the watchdog's input, so that it stops the server and removes the directory, and waits for both.
    fn drop(&mut self) {
        drop(self.trigger.take());
        let _ = self.server.wait();
        let _ = self.watchdog.wait();
    }
}

/// Debian's `/usr/lib/postgresql/<version>/bin` directories, highest version first.
fn debian_bin_dirs() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir("/usr/lib/postgresql") else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let version = name.to_str()?.split('.').map(|part| part.parse().ok()).collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// The directories of `PATH`.
fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect()).unwrap_or_default()
}

/// The real directory of `dir`'s initdb (symlinks followed), if the other programs this module runs are beside it.
fn server_bin(dir: &Path) -> Option<PathBuf> {
    let initdb = fs::canonicalize(dir.join("initdb")).ok()?;
    let bin = initdb.parent()?;
    ["postgres", "pg_isready", "psql"].iter().all(|program| bin.join(program).is_file()).then(|| bin.to_path_buf())
}

/// Who the server runs as: `None` for the current user, or the `postgres` system user when that is root. `dir` was
/// just made by the current user, so its owner tells who that is.
fn server_user(dir: &Path) -> io::Result<Option<User>> {
    if fs::metadata(dir)?.uid() != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd")?;
    let user = passwd.lines().find_map(|line| passwd_user(line, "postgres"));
    let missing = "PostgreSQL refuses to run as root, and /etc/passwd has no `postgres` user to run it as";
    user.map(Some).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, missing))
}

/// The user of an `/etc/passwd` line, if it is the one called `name`.
fn passwd_user(line: &str, name: &str) -> Option<User> {
    let mut fields = line.split(':');
    if fields.next()? != name {
        return None;
    }
    let _password = fields.next()?;
    let uid = fields.next()?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    Some(User { uid, gid })
}

/// Makes the cluster's data directory, `dir/data`, in the C.UTF-8 locale, or in none if that locale is missing.
fn init(bin: &Path, dir: &Path, user: Option<User>) -> io::Result<()> {
    let output = initdb(bin, dir, user, "--locale=C.UTF-8")?;
    if output.status.success() {
        return Ok(());
    }
    if !String::from_utf8_lossy(&output.stderr).contains("locale") {
        return succeeded("initdb", output).map(drop);
    }
    match fs::remove_dir_all(dir.join("data")) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    succeeded("initdb", initdb(bin, dir, user, "--no-locale")?).map(drop)
}

/// Runs initdb for `dir/data` with the `locale` option given, its output captured.
fn initdb(bin: &Path, dir: &Path, user: Option<User>, locale: &str) -> io::Result<Output> {
    pg_command(bin, "initdb", user)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", locale, "-D"])
        .arg(dir.join("data"))
        .current_dir(dir)
        .output()
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// Starts the server of `dir/data` on `port`, its output going to the log file in `dir`.
fn serve(bin: &Path, dir: &Path, user: Option<User>, port: u16, durable: bool) -> io::Result<Child> {
    let mut settings: Vec<OsString> =
        ["listen_addresses=127.0.0.1", "max_connections=300", "shared_buffers=128MB"].map(OsString::from).into();
    if !durable {
        settings.extend(["fsync=off", "synchronous_commit=off", "full_page_writes=off"].map(OsString::from));
    }
    let mut sockets = OsString::from("unix_socket_directories=");
    sockets.push(dir);
    settings.push(sockets);

    let log = File::create(dir.join(LOG))?;
    let mut command = pg_command(bin, "postgres", user);
    command.arg("-D").arg(dir.join("data")).args(["-p", &port.to_string()]);
    for setting in settings {
        command.arg("-c").arg(setting);
    }
    command.current_dir(dir).stdout(log.try_clone()?).stderr(log).spawn()
}

/// Starts the watchdog of the server `server` and `dir`, and returns it with its input.
fn watch(server: u32, dir: &Path) -> io::Result<(Child, PipeWriter)> {
    let (input, trigger) = io::pipe()?;
    let watchdog = Command::new("sh")
        .args(["-c", WATCHDOG, "pg-cluster-watchdog", &server.to_string()])
        .arg(dir)
        .stdin(input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok((watchdog, trigger))
}

/// A command for `program` of `bin`, run as `user` (or the current user), without the caller's `PG*` settings.
fn pg_command(bin: &Path, program: &str, user: Option<User>) -> Command {
    let mut command = Command::new(bin.join(program));
    command.stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            command.env_remove(key);
        }
    }
    if let Some(user) = user {
        command.uid(user.uid).gid(user.gid);
    }
    command
}

/// `output`, or an error with its standard error when `program` failed.
fn succeeded(program: &str, output: Output) -> io::Result<Output> {
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(io::Error::other(format!("{program} failed ({}): {}", output.status, stderr.trim())))
}

/// Whether `name` is 1 to 63 of `a-z`, `0-9` and `_`, and so safe in SQL and a URL.
fn is_plain_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

#[cfg(test)]
mod tests {
    // The imports are inside the test: a benchmark that includes this file is checked with `cfg(test)` but without
    // the test harness, which leaves out `#[test]` functions, and imports at the module's top would go unused.
    #[test]
    fn starts_and_creates_a_database() {
        use std::os::unix::fs::MetadataExt;
        use std::process::Command;

        use super::Cluster;

        if Cluster::binaries().is_none() {
            let required = std::env::var_os("TICKET_ADMIN_REQUIRE_POSTGRES").is_some();
            assert!(!required, "TICKET_ADMIN_REQUIRE_POSTGRES is set, but PostgreSQL's server binaries are missing");
            eprintln!("skipped: no PostgreSQL server binaries on this machine");
            return;
        }
        let cluster = Cluster::start(false).expect("a cluster starts");
        let server = std::fs::metadata(format!("/proc/{}", cluster.server.id())).expect("the server's process");
        assert_ne!(server.uid(), 0, "the server does not run as root");

        for name in ["first", "second_2"] {
            let url = cluster.create_database(name).expect("a database is created");
            let output = Command::new(cluster.bin().join("psql"))
                .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", &url, "-c", "select 1"])
                .output()
                .expect("psql runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "psql on {url} failed: {stderr}");
            assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "1");
        }

        let dir = cluster.dir.path().to_path_buf();
        drop(cluster);
        assert!(!dir.exists(), "the cluster's directory is removed");
    }
}
