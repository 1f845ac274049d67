//! The Unix socket a running run answers on, and the client side of it.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use super::{AskError, LiveRun, Request, answer};
use crate::failure;
use crate::inspect;
use crate::store::{ItemRecord, Store};

/// The socket's name in the store folder.
const SOCKET: &str = "live.sock";
/// The folder in the store where taps waiting for a run (`tap --wait`) listen, one socket
/// each, for the run to call them as it starts: polling for the run's socket alone misses runs
/// shorter than the poll.
const WAITING: &str = "taps";
/// How long a waiting tap listens for a run's call before it looks for the run's socket again.
const WAIT_ROUND: Duration = Duration::from_millis(200);
/// Longest socket path the platform takes (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;
/// Connections served at once; more are told to try again.
const MAX_CONNECTIONS: usize = 16;
/// How long a client may keep a read or a write of the server waiting.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client waits for the run's next line before it calls the run stuck.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(if cfg!(test) { 1 } else { 30 });
/// How often a tap with nothing to send tells its client the run is alive.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How often waiting threads look at whether the run has ended.
const POLL: Duration = Duration::from_millis(50);

/// Where the run using store `dir` listens, when the path is short enough for a socket.
fn socket_path(dir: &Path) -> Option<PathBuf> {
    let path = std::fs::canonicalize(dir).ok()?.join(SOCKET);
    (path.as_os_str().len() <= MAX_SOCKET_PATH).then_some(path)
}

/// Serves `store` and `live` to other processes until dropped.
pub struct LiveServer {
    stop: Arc<AtomicBool>,
    accepting: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl LiveServer {
    /// Listens next to the store; `None` when the socket cannot be made (the run goes on, and
    /// other processes are told the store is in use, as before).
    pub fn start(store: Arc<Store>, live: Arc<LiveRun>) -> Option<LiveServer> {
        let path = socket_path(store.dir())?;
        // This process holds the store's lock: a socket left there is from a run that died.
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).ok()?;
        // A second Ctrl-C leaves at once: the socket goes with it.
        failure::remove_at_exit(&path);
        listener.set_nonblocking(true).ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let accepting = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("live".into())
                .spawn(move || accept(&listener, &store, &live, &stop))
                .ok()?
        };
        Some(LiveServer {
            stop,
            accepting: Some(accepting),
            path,
        })
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
        let _ = std::fs::remove_file(&self.path);
        failure::forget_at_exit(&self.path);
    }
}

/// Accepts connections until `stop`, each served on its own thread; waits for them to end.
fn accept(
    listener: &UnixListener,
    store: &Arc<Store>,
    live: &Arc<LiveRun>,
    stop: &Arc<AtomicBool>,
) {
    let serve_on_thread = |stream: UnixStream| {
        let (store, live, stop) = (store.clone(), live.clone(), stop.clone());
        std::thread::Builder::new()
            .name("live-client".into())
            .spawn(move || serve(stream, &store, &live, &stop))
            .ok()
    };
    // The taps waiting for this run are served first, even by a run that ends at once. The
    // socket listens already, so a tap that starts waiting after this call finds it.
    let mut served: Vec<JoinHandle<()>> = call_waiting_taps(store.dir())
        .into_iter()
        .filter_map(serve_on_thread)
        .collect();
    while !stop.load(Ordering::Acquire) {
        served.retain(|handle| !handle.is_finished());
        // Nonblocking: nobody waiting (or a failed accept) is a pause before looking again.
        let Ok((stream, _)) = listener.accept() else {
            std::thread::sleep(POLL);
            continue;
        };
        if served.len() >= MAX_CONNECTIONS {
            let _ = reply(
                &stream,
                &json!({ "error": "the run is serving too many clients; try again" }),
            );
            continue;
        }
        served.extend(serve_on_thread(stream));
    }
    for handle in served {
        let _ = handle.join();
    }
}

/// Connections to the taps waiting in store `dir` for a run; the sockets of taps that are gone
/// are removed.
fn call_waiting_taps(dir: &Path) -> Vec<UnixStream> {
    let Ok(entries) = std::fs::read_dir(dir.join(WAITING)) else {
        return Vec::new();
    };
    let sockets = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sock"));
    let mut called = Vec::new();
    for path in sockets.take(MAX_CONNECTIONS) {
        match UnixStream::connect(&path) {
            Ok(stream) => called.push(stream),
            Err(err) if err.kind() == ErrorKind::ConnectionRefused => {
                let _ = std::fs::remove_file(&path);
            }
            Err(_) => {}
        }
    }
    called
}

/// Refusal when the socket of a run using store `dir` (which exists) would have a path too long
/// for a socket: no run there answers, so a tap would wait for ever.
fn too_long(dir: &Path) -> Option<AskError> {
    let folder = std::fs::canonicalize(dir).ok()?;
    let path = folder.join(SOCKET);
    let length = path.as_os_str().len();
    (length > MAX_SOCKET_PATH).then(|| {
        AskError::Refused(anyhow::anyhow!(
            "the store {} is at a path too long for the socket a run answers on ({length} bytes \
             with `{SOCKET}`; at most {MAX_SOCKET_PATH}), so runs there cannot be followed; \
             use a store at a shorter path (`store:` in the pipeline, or `--store`)",
            dir.display()
        ))
    })
}

/// Refusal when `err`, met making or reaching a socket in store `dir`, says this user may not
/// write there (another user's store, a read-only mount): a tap needs to.
fn unfollowable(dir: &Path, err: &std::io::Error) -> Option<AskError> {
    matches!(
        err.kind(),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
    )
    .then(|| {
        AskError::Refused(anyhow::anyhow!(
            "the store {} is read-only to this user ({}): `engine tap` talks to a run over a \
             socket in the store, which needs write access; tap as the store's owner",
            dir.display(),
            crate::store::refusal(err)
        ))
    })
}

/// What keeps a tap from following a run of store `dir`, from the error of connecting to it:
/// a refusal when it never can from here, or `NoAnswer` (no run now).
fn not_followed(dir: &Path, err: anyhow::Error) -> AskError {
    if let Some(too_long) = too_long(dir) {
        return too_long;
    }
    match err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| unfollowable(dir, io))
    {
        Some(refused) => refused,
        None => AskError::NoAnswer(err),
    }
}

/// A `tap --wait` listening in the store for the next run to call it.
struct Waiter {
    listener: UnixListener,
    path: PathBuf,
}

impl Waiter {
    /// Listens in store `dir` (made when missing: the run to come uses it); `None` when that
    /// cannot be done, and the tap only looks for the run's socket.
    fn listen(dir: &Path) -> Result<Waiter, AskError> {
        let unlistened = |err: std::io::Error| match unfollowable(dir, &err) {
            Some(refused) => refused,
            None => AskError::NoAnswer(err.into()),
        };
        // The store is made as a run would make it, and a folder that is not one refused.
        crate::store::claim(dir).map_err(|err| AskError::Refused(err.into()))?;
        let folder = dir.join(WAITING);
        std::fs::create_dir_all(&folder).map_err(unlistened)?;
        let path = std::fs::canonicalize(&folder)
            .map_err(unlistened)?
            .join(format!("{}.sock", std::process::id()));
        if let Some(too_long) = too_long(dir) {
            return Err(too_long);
        }
        if path.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(AskError::NoAnswer(anyhow::anyhow!(
                "the waiting socket's path is too long"
            )));
        }
        // A socket of this process id is a dead tap's.
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).map_err(unlistened)?;
        listener.set_nonblocking(true).map_err(unlistened)?;
        Ok(Waiter { listener, path })
    }

    /// The run that called within `patience`, if one did.
    fn called(&self, patience: Duration) -> Option<UnixStream> {
        let until = Instant::now() + patience;
        loop {
            if let Ok((stream, _)) = self.listener.accept() {
                return Some(stream);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Waiter {
    /// Closing the socket drops a call still queued, so that run's server does not wait on it.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn reply(mut stream: &UnixStream, value: &Value) -> std::io::Result<()> {
    let mut line = value.to_string();
    line.push('\n');
    stream.write_all(line.as_bytes())
}

/// Answers one client.
fn serve(stream: UnixStream, store: &Store, live: &LiveRun, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    // A client that stops reading or writing is dropped, so it never holds up the run's end.
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    let mut line = String::new();
    let request = BufReader::new(&stream)
        .take(64 * 1024)
        .read_line(&mut line)
        .map_err(anyhow::Error::from)
        .and_then(|_| serde_json::from_str::<Request>(&line).context("not a request"));
    let request = match request {
        Ok(request) => request,
        Err(err) => {
            let _ = reply(&stream, &json!({ "error": format!("{err:#}") }));
            return;
        }
    };
    if let Request::Tap {
        step,
        from_start,
        pipeline,
    } = &request
    {
        let follow = Follow {
            step: step.as_deref(),
            from_start: *from_start,
            pipeline: pipeline.as_deref(),
        };
        tap(&stream, store, live, follow, stop);
        return;
    }
    let answer = match answer(store, Some(live), &request) {
        Ok(report) => json!({ "ok": report }),
        // The code tells the client whether the request was wrong (2) or the run failed it.
        Err(err) => json!({ "error": format!("{err:#}"), "code": failure::exit_code(&err) }),
    };
    let _ = reply(&stream, &answer);
}

/// One completed item of step `step` (operator `op`) as a tap line; one without an output says
/// why, as `inspect` does.
fn tapped(store: &Store, (step, op): (&str, &str), doc_id: &str, record: &ItemRecord) -> Value {
    let output = inspect::output_of(store, record);
    let mut item = json!({
        "step": step, "op": op, "doc_id": doc_id, "cached": record.cached,
        "seconds": record.seconds, "error": record.error, "key": record.key,
        "output": output.as_ref().map(|item| inspect::describe(item, false)),
    });
    if output.is_none() {
        item["output_note"] =
            inspect::missing_output_note(Some(op), &record.key, inspect::Failure::of(record))
                .into();
    }
    json!({ "item": item })
}

/// What a tap asks to follow.
struct Follow<'a> {
    /// The step (every step, without one).
    step: Option<&'a str>,
    /// Whether the items completed before come first.
    from_start: bool,
    /// Only a run of this pipeline.
    pipeline: Option<&'a str>,
}

/// Streams the items the step asked for completes until the run ends or the client leaves;
/// with `from_start`, those it completed before come first. A run of another pipeline than
/// the one asked for says which it is, and ends the tap.
fn tap(stream: &UnixStream, store: &Store, live: &LiveRun, follow: Follow<'_>, stop: &AtomicBool) {
    let Follow {
        step,
        from_start,
        pipeline,
    } = follow;
    if pipeline.is_some_and(|name| name != live.pipeline) {
        let other =
            json!({ "ok": { "run_id": live.run_id, "step": step, "pipeline": live.pipeline } });
        let _ = reply(stream, &other);
        return;
    }
    if let Some(step) = step
        && !live.steps.iter().any(|(name, _)| name == step)
    {
        let names: Vec<&str> = live.steps.iter().map(|(name, _)| name.as_str()).collect();
        let message = format!(
            "run {} has no step `{step}`; its steps: {}",
            live.run_id,
            names.join(", ")
        );
        let _ = reply(
            stream,
            &json!({ "error": message, "code": failure::EXIT_INVALID }),
        );
        return;
    }
    let (id, items, skipped) = live.taps.subscribe(step);
    let started =
        json!({ "ok": { "run_id": live.run_id, "step": step, "pipeline": live.pipeline } });
    let mut connected = reply(stream, &started).is_ok();
    // Items are recorded in the store before they are offered to taps, and the tap listens
    // before the store is read: each completed item comes once, from one or the other.
    let mut sent = HashSet::new();
    if from_start {
        let mut done = store.item_records(&live.run_id, step).unwrap_or_default();
        let position = |step: &str| live.steps.iter().position(|(name, _)| name == step);
        done.sort_by_key(|(step, _, _)| position(step));
        for (step, doc_id, record) in done {
            if !connected {
                break;
            }
            connected = reply(stream, &tapped(store, live.step(&step), &doc_id, &record)).is_ok();
            sent.insert((step, doc_id));
        }
    }
    let mut last_reply = Instant::now();
    while connected {
        match items.recv_timeout(POLL) {
            Ok((step, doc_id, record)) => {
                let item = (step, doc_id);
                if sent.remove(&item) {
                    continue;
                }
                let (step, doc_id) = item;
                connected =
                    reply(stream, &tapped(store, live.step(&step), &doc_id, &record)).is_ok();
                last_reply = Instant::now();
            }
            Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Acquire) => break,
            Err(RecvTimeoutError::Timeout) if last_reply.elapsed() >= HEARTBEAT => {
                connected = reply(stream, &json!({ "alive": true })).is_ok();
                last_reply = Instant::now();
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    live.taps.unsubscribe(id);
    if connected {
        let end = json!({ "end": { "skipped": skipped.load(Ordering::Relaxed) } });
        let _ = reply(stream, &end);
    }
}

/// Connects to the run using store `dir`, if one listens there.
fn connect(dir: &Path, request: &Request) -> anyhow::Result<BufReader<UnixStream>> {
    let path = socket_path(dir).context("the store's path is too long for a socket")?;
    let stream = UnixStream::connect(&path)
        .with_context(|| format!("the run does not answer on {}", path.display()))?;
    send(stream, request)
}

/// Sends `request` on `stream`, a connection to a run, for its answers to be read.
fn send(stream: UnixStream, request: &Request) -> anyhow::Result<BufReader<UnixStream>> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    reply(&stream, &serde_json::to_value(request)?)?;
    Ok(BufReader::new(stream))
}

/// Reads one answer line, heartbeats skipped: the report, `None` at the end, the server's
/// error, or, when the connection breaks (the run ending), `NoAnswer`.
fn read_answer(reader: &mut BufReader<UnixStream>) -> Result<Option<Value>, AskError> {
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(AskError::Refused(anyhow::anyhow!(
                    "the run using this store has not answered for {} s: it may be stopped \
                     (SIGSTOP, a debugger) or stuck; `kill` it if it stays so",
                    ANSWER_TIMEOUT.as_secs()
                )));
            }
            Err(err) => {
                return Err(AskError::NoAnswer(
                    anyhow::Error::new(err).context("the run closed the connection"),
                ));
            }
        }
        let mut value: Value = serde_json::from_str(&line)
            .context("an unreadable answer")
            .map_err(AskError::Refused)?;
        if value.get("alive").is_some() {
            continue;
        }
        if let Some(error) = value.get("error") {
            let message = error.as_str().unwrap_or_default();
            if value["code"] == failure::EXIT_INVALID {
                return Err(AskError::Refused(failure::invalid(message)));
            }
            return Err(AskError::Refused(anyhow::anyhow!("{message}")));
        }
        return Ok(Some(value.take()));
    }
}

/// Asks the run using store `dir` for the report of `request`.
pub fn ask(dir: &Path, request: &Request) -> Result<Value, AskError> {
    let mut reader = connect(dir, request).map_err(AskError::NoAnswer)?;
    let mut answer = read_answer(&mut reader)?
        .ok_or_else(|| AskError::NoAnswer(anyhow::anyhow!("the run closed the connection")))?;
    Ok(answer["ok"].take())
}

/// Follows step `step` (every step, without one) of the run using store `dir`: `each` sees the
/// first line (`{"ok": {"run_id", "step"}}`), every item line (`{"item": …}`) and the last one
/// (`{"end": …}`), and returns `false` to stop early.
///
/// With `wait`, when no run uses the store, `wait` is called once and the next run to start is
/// followed from its start, however short it is.
pub fn follow(
    dir: &Path,
    step: Option<&str>,
    pipeline: Option<&str>,
    wait: Option<&mut dyn FnMut()>,
    mut each: impl FnMut(&Value) -> bool,
) -> Result<(), AskError> {
    let request = Request::Tap {
        step: step.map(str::to_owned),
        from_start: wait.is_some(),
        pipeline: pipeline.map(str::to_owned),
    };
    // The run's first answer names its pipeline: another than the one asked for is not ours.
    let another = |first: &Value| {
        let theirs = first["ok"]["pipeline"].as_str();
        pipeline
            .zip(theirs)
            .filter(|(ours, theirs)| ours != theirs)
            .map(|(ours, theirs)| (ours.to_owned(), theirs.to_owned()))
    };
    let Some(waiting) = wait else {
        let mut reader = connect(dir, &request).map_err(|err| not_followed(dir, err))?;
        let Some(first) = read_answer(&mut reader)? else {
            return Ok(());
        };
        if let Some((ours, theirs)) = another(&first) {
            return Err(AskError::Refused(failure::invalid(format!(
                "the run using {} is of pipeline `{theirs}`, not `{ours}`; `engine tap --wait` waits for a run of `{ours}`",
                dir.display()
            ))));
        }
        if !each(&first) {
            return Ok(());
        }
        return stream_answers(reader, &mut each);
    };
    // Listening before looking for the run: a run that starts after the look calls the tap.
    let mut waiter = None;
    let mut waiting = Some(waiting);
    loop {
        if waiter.is_none() {
            waiter = match Waiter::listen(dir) {
                Ok(waiter) => Some(waiter),
                Err(AskError::NoAnswer(_)) => None,
                Err(refused) => return Err(refused),
            };
        }
        let reader = match connect(dir, &request) {
            Ok(reader) => Some(reader),
            Err(err) => {
                if let refused @ AskError::Refused(_) = not_followed(dir, err) {
                    return Err(refused);
                }
                if let Some(waiting) = waiting.take() {
                    waiting();
                }
                match &waiter {
                    Some(waiter) => waiter.called(WAIT_ROUND),
                    None => {
                        std::thread::sleep(WAIT_ROUND);
                        None
                    }
                }
                .and_then(|stream| send(stream, &request).ok())
            }
        };
        let Some(mut reader) = reader else {
            continue;
        };
        // The first answer says a run took the tap. A run that ended before it answered (its
        // socket still took the connection) is no run: the call it queued for the waiting
        // socket, if any, comes next.
        let first = match read_answer(&mut reader) {
            Ok(Some(first)) => first,
            Ok(None) | Err(AskError::NoAnswer(_)) => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(refused) => return Err(refused),
        };
        // A call still queued is dropped, so that its run does not wait on it.
        drop(waiter.take());
        if another(&first).is_some() {
            // Another pipeline's run holds the store: wait for it to end, then for ours.
            std::thread::sleep(WAIT_ROUND);
            continue;
        }
        if !each(&first) {
            return Ok(());
        }
        return match stream_answers(reader, &mut each) {
            // The run closed the connection: it ended.
            Err(AskError::NoAnswer(_)) => Ok(()),
            followed => followed,
        };
    }
}

/// Hands each answer on `reader` to `each` until the end, or until `each` returns `false`.
fn stream_answers(
    mut reader: BufReader<UnixStream>,
    mut each: impl FnMut(&Value) -> bool,
) -> Result<(), AskError> {
    while let Some(line) = read_answer(&mut reader)? {
        if !each(&line) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for a run listening on `dir`'s socket: `serve` gets each connection.
    fn fake_run(dir: &Path, serve: impl Fn(UnixStream) + Send + 'static) -> JoinHandle<()> {
        let listener = UnixListener::bind(socket_path(dir).unwrap()).unwrap();
        std::thread::spawn(move || {
            if let Ok((stream, _)) = listener.accept() {
                serve(stream);
            }
        })
    }

    fn request() -> Request {
        Request::Runs
    }

    /// A run that takes the question and never answers (stopped, stuck) is called so, instead
    /// of keeping `runs` or `inspect` waiting for ever.
    #[test]
    fn a_run_that_never_answers_is_called_stuck() {
        let dir = tempfile::tempdir().unwrap();
        let server = fake_run(dir.path(), |stream| {
            std::thread::sleep(ANSWER_TIMEOUT * 3);
            drop(stream);
        });
        let started = Instant::now();
        match ask(dir.path(), &request()) {
            Err(AskError::Refused(err)) => {
                assert!(err.to_string().contains("has not answered"), "{err:#}")
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < ANSWER_TIMEOUT * 3);
        server.join().unwrap();
    }

    /// Heartbeats are skipped; a connection the run drops (it ended) is no answer, which the
    /// caller may retry from the store.
    #[test]
    fn heartbeats_are_skipped_and_a_dropped_connection_is_no_answer() {
        let dir = tempfile::tempdir().unwrap();
        let server = fake_run(dir.path(), |stream| {
            // As a run does, the request is read first: answering and closing before the
            // client has written it would break the client's write (EPIPE) at random.
            let mut request = String::new();
            BufReader::new(&stream).read_line(&mut request).unwrap();
            let _ = reply(&stream, &json!({ "alive": true }));
            let _ = reply(&stream, &json!({ "ok": { "runs": [] } }));
        });
        let answer = ask(dir.path(), &request()).unwrap();
        assert_eq!(answer, json!({ "runs": [] }));
        server.join().unwrap();
        std::fs::remove_file(socket_path(dir.path()).unwrap()).unwrap();
        let server = fake_run(dir.path(), drop);
        assert!(matches!(
            ask(dir.path(), &request()),
            Err(AskError::NoAnswer(_))
        ));
        server.join().unwrap();
    }

    /// A run's socket is removed by an exit at once (a second Ctrl-C left it behind), for as
    /// long as the run serves it.
    #[test]
    fn an_exit_at_once_removes_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let live = Arc::new(LiveRun::new("r1".into(), "p".into(), Vec::new()));
        let server = LiveServer::start(store, live).unwrap();
        let path = socket_path(dir.path()).unwrap();
        assert!(failure::removed_at_exit().contains(&path));
        drop(server);
        assert!(!path.exists());
        assert!(!failure::removed_at_exit().contains(&path));
    }

    /// A run that starts and ends between two of a waiting tap's looks for its socket is
    /// still followed, start to end: it calls the tap as it starts.
    #[test]
    fn a_waiting_tap_follows_a_run_that_ends_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let (lines, heard) = std::sync::mpsc::channel();
        let tap_dir = dir.path().to_owned();
        let tap = std::thread::spawn(move || {
            let mut waiting = || {};
            follow(&tap_dir, None, None, Some(&mut waiting), |line| {
                lines.send(line.clone()).unwrap();
                true
            })
        });
        let sockets = dir.path().join(WAITING);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::read_dir(&sockets).map_or(true, |mut dir| dir.next().is_none()) {
            assert!(Instant::now() < deadline, "the tap never listened");
            std::thread::sleep(Duration::from_millis(5));
        }
        // A tap that died left its socket: the run skips it and removes it.
        let dead = sockets.join("1.sock");
        drop(UnixListener::bind(&dead).unwrap());
        let live = Arc::new(LiveRun::new(
            "r1".into(),
            "p".into(),
            vec![("docs".into(), "source.files".into())],
        ));
        drop(LiveServer::start(store, live).unwrap());
        let first = heard.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(first["ok"]["run_id"], "r1", "{first}");
        let last = heard.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(last.get("end").is_some(), "{last}");
        tap.join().unwrap().unwrap();
        assert!(!dead.exists());
        assert_eq!(
            std::fs::read_dir(&sockets).unwrap().count(),
            0,
            "the tap's socket is gone"
        );
    }

    /// A store at a path too long for a socket can have no run to follow: a tap says so at once,
    /// waiting or not, instead of waiting for ever.
    #[test]
    fn a_store_too_deep_for_a_socket_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("d".repeat(60)).join("e".repeat(60));
        std::fs::create_dir_all(&store).unwrap();
        let refused = |result: Result<(), AskError>| match result {
            Err(AskError::Refused(err)) => err.to_string(),
            other => panic!("{other:?}"),
        };
        let message = refused(follow(&store, None, None, None, |_| true));
        assert!(message.contains("too long for the socket"), "{message}");
        let mut waiting = || {};
        let message = refused(follow(&store, None, None, Some(&mut waiting), |_| true));
        assert!(
            message.contains("use a store at a shorter path"),
            "{message}"
        );
    }
}
