//! `engine serve`: a pipeline's indexes answering queries over HTTP, each index and its query
//! model loaded once, and opened again when a run makes another generation live; the index
//! steps follow the pipeline file.
//!
//! `POST /query` takes `{"text", "index", "mode", "k", "filters", "alpha", "rrf_k", "explain",
//! "context"}` (all but `text` optional) and `GET /query?text=…&index=…&filter=key=value…` the
//! same; both answer
//! `{"index", "mode", "hits": […], "notes": […]}`, the hits as `engine query --json` prints them.
//! `GET /indexes` lists the index steps; `GET /health` answers once the server listens.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::extract::{FromRequest, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use operators::embed::{EmbedError, Upstream};
use operators::index::{Fusion, Mode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::failure::{EXIT_INVALID, exit_code, invalid};
use crate::query::{Asker, Searcher};
use crate::spec::load::{self, Pipeline};
use crate::write_deadline::WriteDeadline;

/// Queries (and index listings) waiting for or holding an index at once; past it a request is
/// answered 503 at once rather than queued without bound.
const MAX_PENDING: usize = 64;

/// The `Retry-After` (seconds) of a 503 for a server that has as many requests as it takes.
const BUSY_RETRY_AFTER: u64 = 1;

/// How long a server asked to stop still answers the requests it was reading or answering.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Connections served at once (each holds a file descriptor).
const MAX_CONNECTIONS: usize = 512;

/// The largest body a query may have: axum's default limit, which reading it applies.
const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// The largest body read without one of [`MAX_LARGE_BODIES`] permits.
const SMALL_BODY_BYTES: u64 = 64 * 1024;

/// Bodies past [`SMALL_BODY_BYTES`] read at once.
const MAX_LARGE_BODIES: usize = 16;

/// Hits a query returns when it does not say (`engine query`'s `-k` default).
const DEFAULT_K: usize = 10;

/// The most hits a query may ask for: every hit is built in memory before the answer is sent,
/// and one request for 100,000 took 1.9 GB.
const MAX_K: usize = 1_000;

/// The most chunks an answer may carry, hits and their `context` chunks together
/// (`k × (2 × context + 1)`): a context of 50 multiplies an answer by 101.
const MAX_ANSWER_CHUNKS: usize = 5_000;

/// One index step as the server holds it.
#[derive(Default)]
struct Slot {
    /// The index and its query model, once opened; queries search it together, each holding
    /// it while it searches (one that began before a reopen ends on the index it began on).
    searcher: Option<Arc<Searcher>>,
    /// What `engine query` would print as notes about the index as opened (steps that changed
    /// since the run that built it).
    notes: Vec<String>,
    /// The pipeline file as it was when the index was opened (`None`: it could not be read).
    file: Option<load::FileStamp>,
}

/// What the request handlers share.
struct Server {
    /// The pipeline file, loaded again when an index is opened again.
    file: PathBuf,
    /// The index steps the pipeline file has, by name.
    steps: RwLock<Steps>,
    /// Permits for [`MAX_PENDING`] queries, each held until its search ends (a client that
    /// hangs up does not stop a search begun).
    pending: Arc<tokio::sync::Semaphore>,
    /// Permits for [`MAX_LARGE_BODIES`] bodies past [`SMALL_BODY_BYTES`], each held while its
    /// body is read and parsed.
    large_bodies: Arc<tokio::sync::Semaphore>,
    /// How long a request's body may take to arrive.
    idle_timeout: Duration,
}

/// The index steps of the pipeline file as it was when they were last listed.
struct Steps {
    /// The file then.
    file: Option<load::FileStamp>,
    /// Each step's index, by step name.
    slots: BTreeMap<String, Arc<Mutex<Slot>>>,
}

/// A query, from a JSON body or a URL's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryRequest {
    /// The words to search for.
    text: String,
    /// The index step; may be left out when the pipeline has one.
    index: Option<String>,
    /// `hybrid` (default), `bm25` or `vector`.
    mode: Option<String>,
    /// Hits to return.
    k: Option<usize>,
    /// `key=value` filters, all of which must hold.
    #[serde(default, alias = "filter")]
    filters: Vec<String>,
    /// Weighted fusion's weight of the vector list.
    alpha: Option<f32>,
    /// RRF's constant.
    rrf_k: Option<f32>,
    /// Whether hybrid hits show their places in the BM25 and vector lists.
    #[serde(default)]
    explain: bool,
    /// Chunks to add on each side of every hit, from its document.
    #[serde(default)]
    context: usize,
}

/// An answer that is an error: its status and message, as `{"error": …}`, and the seconds
/// of its `Retry-After` header, if it has one.
struct Refusal(StatusCode, String, Option<u64>);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(json!({ "error": self.1 }))).into_response();
        if let Some(seconds) = self.2 {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<anyhow::Error> for Refusal {
    /// What `engine query` refuses (exit 2) is the request's fault; the embedding provider's
    /// failure is a gateway's ([`provider_status`]); the rest is the server's.
    fn from(err: anyhow::Error) -> Self {
        let upstream = (err.chain())
            .find_map(|cause| cause.downcast_ref::<EmbedError>())
            .and_then(|embed| embed.upstream);
        let (status, retry_after) = match (exit_code(&err), upstream) {
            (EXIT_INVALID, _) => (StatusCode::BAD_REQUEST, None),
            (_, Some(upstream)) => provider_status(upstream),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        Refusal(status, in_request_terms(&format!("{err:#}")), retry_after)
    }
}

/// The status that passes on an embedding provider's failure, and the seconds of its
/// `Retry-After`: 502 when it failed (an error answer, no connection), 503 when it asked to
/// wait (429; its `Retry-After` passed on, rounded up), 504 when it did not answer in time.
fn provider_status(upstream: Upstream) -> (StatusCode, Option<u64>) {
    match upstream {
        Upstream::Failed => (StatusCode::BAD_GATEWAY, None),
        Upstream::Busy(wait) => (
            StatusCode::SERVICE_UNAVAILABLE,
            wait.map(|wait| wait.as_secs_f64().ceil() as u64),
        ),
        Upstream::TimedOut => (StatusCode::GATEWAY_TIMEOUT, None),
    }
}

/// A message of `engine query` with its command-line advice in a request's terms: BM25 works
/// without the model with `"mode": "bm25"`, not `--mode bm25`.
fn in_request_terms(message: &str) -> String {
    message
        .replace(
            "`query --mode bm25`, `compare --modes bm25`",
            "`\"mode\": \"bm25\"`",
        )
        .replace("--mode bm25", "`\"mode\": \"bm25\"`")
}

fn bad_request(message: impl Into<String>) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, message.into(), None)
}

/// The token a request must carry, read from `path` (`--token-file`): its first line, which
/// must hold one word of visible ASCII (what a header can carry).
pub fn read_token(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        invalid(format!(
            "cannot read the token file {}: {err}",
            path.display()
        ))
    })?;
    let token = text.lines().next().unwrap_or_default().trim();
    if token.is_empty() || !token.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(invalid(format!(
            "the token file {} must hold the token on its first line: visible ASCII characters, no spaces (`openssl rand -hex 32 > {}` makes one)",
            path.display(),
            path.display()
        )));
    }
    Ok(token.to_owned())
}

/// How `engine serve` listens.
pub struct Listening {
    /// The address and port (`127.0.0.1:8765`, `localhost:0`).
    pub addr: String,
    /// The token every request but `GET /health` must carry (see [`read_token`]).
    pub token: Option<String>,
    /// How long a connection may take to send a request's headers, or its body, or to send the
    /// next request on a connection kept alive, before it is closed.
    pub idle_timeout: Duration,
    /// Whether the line that says where it listens is JSON (`{"url", "pipeline", "indexes"}`).
    pub json: bool,
}

/// Serves the indexes of `pipeline` (loaded from `file`) as `listening` says until the process
/// is stopped. Says where it listens on stdout, in one line, once it does.
pub fn serve(file: &Path, pipeline: &Pipeline, listening: Listening) -> anyhow::Result<i32> {
    let Listening {
        addr,
        token,
        idle_timeout,
        json,
    } = listening;
    let addr = addr.as_str();
    let steps = crate::query::index_steps(pipeline);
    if steps.is_empty() {
        return Err(invalid(format!(
            "{} has no `index.hybrid` step: there is nothing to serve",
            file.display()
        )));
    }
    let addr: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(addr)
        .ok()
        .and_then(|mut found| found.next())
        .ok_or_else(|| {
            invalid(format!(
                "`{addr}` is no address to listen on: give a host and port, as `127.0.0.1:8765` or `localhost:8765`"
            ))
        })?;
    // Listening before any index is opened: a port it cannot listen on ends the command
    // before a query model starts loading on a thread of its own (onnxruntime's setup crashed
    // the process, SIGSEGV or SIGABRT, when it exited meanwhile).
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|err| anyhow::anyhow!("cannot listen on {addr}: {err}"))?;
    let file_stamp = load::file_stamp(file);
    let slots = (steps.into_iter())
        .map(|step| {
            (
                step.to_owned(),
                Arc::new(Mutex::new(opened_now(pipeline, step, file_stamp))),
            )
        })
        .collect();
    let server = Arc::new(Server {
        file: file.to_owned(),
        steps: RwLock::new(Steps {
            file: file_stamp,
            slots,
        }),
        pending: Arc::new(tokio::sync::Semaphore::new(MAX_PENDING)),
        large_bodies: Arc::new(tokio::sync::Semaphore::new(MAX_LARGE_BODIES)),
        idle_timeout,
    });
    let stopping = stop_on_signal();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let local = listener.local_addr()?;
        if json {
            let indexes: Vec<String> = server.slots().into_keys().collect();
            outln!(
                "{}",
                json!({ "url": format!("http://{local}"), "pipeline": file, "indexes": indexes })
            );
        } else {
            outln!(
                "serving {} index(es) of {} on http://{local}",
                server.slots().len(),
                file.display()
            );
        }
        accept(listener, router(server, token), idle_timeout, stopping).await
    });
    // A search still going past the grace is not waited for.
    runtime.shutdown_timeout(Duration::from_millis(100));
    if let Ok(deadline) = &served {
        warming::wait_until(*deadline);
    }
    served.map(|_| 0)
}

/// The first SIGINT, SIGTERM or SIGHUP turns the receiver true (the server stops: see
/// [`accept`]); the second ends the process at once, exit 130.
fn stop_on_signal() -> tokio::sync::watch::Receiver<bool> {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let installed = ctrlc::set_handler(move || {
        if *stop.borrow() {
            crate::failure::exit_now(
                "stopped at once by a second signal: the requests in flight were not answered",
                130,
            );
        }
        // Said before the server stops, which says when it has.
        errln!(
            "stopping: no new connections; answering the requests in flight, for up to {} s (Ctrl-C again to stop at once)",
            SHUTDOWN_GRACE.as_secs()
        );
        stop.send_replace(true);
    });
    if let Err(err) = installed {
        errln!("note: cannot handle Ctrl-C and SIGTERM ({err}): a signal stops the server at once");
    }
    stopping
}

/// Returns once `stopping` turns true (never, when its sender is gone).
async fn stopped(mut stopping: tokio::sync::watch::Receiver<bool>) {
    if stopping.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Query models loading on threads of their own ([`opened_now`]), which the process waits for
/// before it exits: onnxruntime's setup crashed the process when it exited meanwhile.
mod warming {
    use std::sync::{Condvar, Mutex};
    use std::time::Instant;

    static LOADING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

    /// One model loading, counted while this lives.
    pub struct Loading(());

    impl Loading {
        pub fn start() -> Loading {
            *lock() += 1;
            Loading(())
        }
    }

    impl Drop for Loading {
        fn drop(&mut self) {
            *lock() -= 1;
            LOADING.1.notify_all();
        }
    }

    fn lock() -> std::sync::MutexGuard<'static, usize> {
        LOADING
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until no model is loading, or `deadline` passes.
    pub fn wait_until(deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = LOADING
            .1
            .wait_timeout_while(lock(), left, |loading| *loading > 0);
    }
}

/// Serves each connection `listener` accepts, [`MAX_CONNECTIONS`] at once (past it, new ones
/// wait in the system's listen queue), closing one that sends no request headers within
/// `idle_timeout` of connecting or of its last answer, or reads nothing of an answer for as
/// long: axum's own loop kept a connection that never sent a byte open for ever, and one that
/// never read its answer until the answer fit in the socket's buffer. A client that sends its
/// request and then closes its side (`nc -N`, HTTP/1.0 scripts, health checkers) is still
/// answered: hyper's default took the half-close for a hang-up and closed without a word.
///
/// Once `stopping` turns true it accepts no more connections, and gives those open up to
/// [`SHUTDOWN_GRACE`] to answer the requests they are reading or answering (each is closed
/// once it has); the deadline is returned, for the models still loading.
async fn accept(
    listener: tokio::net::TcpListener,
    router: Router,
    idle_timeout: Duration,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<std::time::Instant> {
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, permit) = tokio::select! {
            () = stopped(stopping.clone()) => break,
            accepted = next_connection(&listener, &connections) => accepted?,
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let stopping = stopping.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(idle_timeout)
                .half_close(true)
                .serve_connection(
                    hyper_util::rt::TokioIo::new(WriteDeadline::new(stream, idle_timeout)),
                    service,
                );
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = stopped(stopping) => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            // A connection's errors (a client gone, a timeout) end it alone.
            if let Err(err) = ended {
                log_unread(&err);
            }
            drop(permit);
        });
    }
    drop(listener);
    let deadline = std::time::Instant::now() + SHUTDOWN_GRACE;
    let all = connections.acquire_many(MAX_CONNECTIONS as u32);
    let open = match tokio::time::timeout_at(deadline.into(), all).await {
        Ok(_) => 0,
        Err(_) => MAX_CONNECTIONS - connections.available_permits(),
    };
    match open {
        0 => errln!("stopped: every request in flight was answered"),
        open => errln!(
            "stopped after {} s: {open} connection(s) still open were closed",
            SHUTDOWN_GRACE.as_secs()
        ),
    }
    Ok(deadline)
}

/// The next connection `listener` accepts, once one of `connections`' permits is free.
async fn next_connection(
    listener: &tokio::net::TcpListener,
    connections: &Arc<tokio::sync::Semaphore>,
) -> anyhow::Result<(tokio::net::TcpStream, tokio::sync::OwnedSemaphorePermit)> {
    let permit = connections.clone().acquire_owned().await?;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // Answers are small and whole: send them at once.
                let _ = stream.set_nodelay(true);
                return Ok((stream, permit));
            }
            Err(err) => {
                // Out of file descriptors, say: some come back as connections end.
                errln!("cannot accept a connection: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Logs a request hyper answered itself, its request line or headers unreadable or too long:
/// hyper's answer has no body (it gives no way to add one), so this line is all that says why.
fn log_unread(err: &hyper::Error) {
    if !err.is_parse() {
        return;
    }
    let status = match err.is_parse_too_large() {
        false => 400,
        true if err.to_string().contains("URI") => 414,
        true => 431,
    };
    errln!("- - {status} ({err}: the request was not read, and its answer has no body)");
}

/// The routes; with a token, every one but `/health` (for a load balancer's checks) asks
/// for it.
fn router(server: Arc<Server>, token: Option<String>) -> Router {
    let mut searching = Router::new()
        .route("/indexes", get(indexes).fallback(wrong_method("GET")))
        .route(
            "/query",
            (get(query_by_url).post(query_by_body)).fallback(wrong_method("GET or POST")),
        )
        .fallback(|| async {
            Refusal(
                StatusCode::NOT_FOUND,
                "no such path: `GET /indexes`, `GET /query?text=…`, `POST /query` or `GET /health`"
                    .to_owned(),
                None,
            )
        });
    if let Some(token) = token {
        let digest = blake3::hash(token.as_bytes());
        // Over unknown paths too: without the token, nothing but `/health` answers.
        searching = searching.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| async move {
                match bearer(&request).map(|given| blake3::hash(given.as_bytes())) {
                    // blake3's digests compare in constant time.
                    Some(given) if given == digest => next.run(request).await,
                    _ => unauthorized(),
                }
            },
        ));
    }
    searching
        .route(
            "/health",
            get(|| async { Json(json!({ "status": "ok" })) }).fallback(wrong_method("GET")),
        )
        .layer(axum::middleware::from_fn(access_log))
        .with_state(server)
}

/// Logs each request on stderr once answered: method, path (without the query string, which
/// holds the query's words), status and milliseconds (`POST /query 200 7.1 ms`).
async fn access_log(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    errln!(
        "{method} {} {} {:.1} ms",
        crate::stdout::visible(&path),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// The answer to a method `path` does not take (`takes` says which it does): a 405 with an
/// `{"error": …}` body, as every other error has (axum's own had an empty one); axum adds the
/// `Allow` header.
fn wrong_method(
    takes: &'static str,
) -> impl Fn(axum::http::Method, axum::http::Uri) -> std::future::Ready<Refusal> + Clone {
    move |method, uri| {
        std::future::ready(Refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "`{}` takes {takes}, not `{method}`",
                crate::stdout::visible(uri.path())
            ),
            None,
        ))
    }
}

/// The token of a request's `Authorization: Bearer …` header.
fn bearer(request: &axum::extract::Request) -> Option<&str> {
    let value = request.headers().get(axum::http::header::AUTHORIZATION)?;
    let (scheme, token) = value.to_str().ok()?.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The answer to a request without the server's token.
fn unauthorized() -> Response {
    let mut response = Refusal(
        StatusCode::UNAUTHORIZED,
        "this server asks for a token: send `Authorization: Bearer <token>`, the token in the file `engine serve --token-file` was given".to_owned(), None
    )
    .into_response();
    response.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    response
}

/// An index opened, with the notes a query of it prints.
struct Opened {
    searcher: Searcher,
    notes: Vec<String>,
}

/// Index `step` of `pipeline` (whose file is `file_stamp`), opened now, its query model loaded
/// meanwhile on a thread of its own, so that the first query waits less for it and the server
/// listens at once (an http provider that did not answer kept the port closed for two minutes);
/// an index that cannot be opened yet (no run has built it) is tried again at each query.
fn opened_now(pipeline: &Pipeline, step: &str, file_stamp: Option<load::FileStamp>) -> Slot {
    let mut slot = Slot {
        file: file_stamp,
        ..Slot::default()
    };
    match open(pipeline, step) {
        Ok(opened) => {
            let searcher = Arc::new(opened.searcher);
            let (warm, step_name) = (searcher.clone(), step.to_owned());
            let loading = warming::Loading::start();
            std::thread::spawn(move || {
                let _loading = loading;
                if let Err(err) = warm_up(&warm) {
                    errln!("note: `{step_name}`: {err:#}");
                }
            });
            slot.searcher = Some(searcher);
            slot.notes = opened.notes;
        }
        Err(err) => {
            errln!("note: `{step}`: {err:#}; it is opened again at each query");
        }
    }
    slot
}

impl Server {
    /// The index steps of the pipeline file as it is now: when it was edited since they were
    /// listed, a step it adds is opened and one it no longer has is dropped (a file that does
    /// not load leaves them as they were: a query says why it does not load).
    fn slots(&self) -> BTreeMap<String, Arc<Mutex<Slot>>> {
        let file_stamp = load::file_stamp(&self.file);
        {
            let steps = self
                .steps
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if steps.file == file_stamp {
                return steps.slots.clone();
            }
        }
        let mut steps = self
            .steps
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if steps.file != file_stamp
            && let Ok((pipeline, _)) = crate::cli::load_to_read(&self.file)
        {
            let now = crate::query::index_steps(&pipeline);
            steps.slots.retain(|step, _| now.contains(&step.as_str()));
            for step in now {
                if !steps.slots.contains_key(step) {
                    let slot = opened_now(&pipeline, step, file_stamp);
                    (steps.slots).insert(step.to_owned(), Arc::new(Mutex::new(slot)));
                }
            }
            steps.file = file_stamp;
        }
        steps.slots.clone()
    }
}

fn open(pipeline: &Pipeline, step: &str) -> anyhow::Result<Opened> {
    let searcher = Searcher::open(pipeline, step)?;
    let notes = crate::query::stale_notes(pipeline, &[step]);
    Ok(Opened { searcher, notes })
}

/// Loads the query model of `searcher`'s branch, if it has one.
fn warm_up(searcher: &Searcher) -> anyhow::Result<()> {
    if searcher.vectors()?.is_some() {
        searcher.embed_query("warm up")?;
    }
    Ok(())
}

/// The index steps and what each holds, as a query would find them now (each opened again
/// first when a run or an edit of the file calls for it, as [`current_searcher`] does): its
/// chunks and documents, its vectors' model, the run that built it and the notes a query of it
/// gets; or why it is not open. Read on a blocking thread, as opening is disk work, holding a
/// permit as a query does.
async fn indexes(State(server): State<Arc<Server>>) -> Result<Json<Value>, Refusal> {
    on_blocking_thread(server, |server| {
        let listed: Vec<Value> = (server.slots().iter())
            .map(|(step, slot)| match current_searcher(server, slot, step) {
                Ok((searcher, mut notes)) => {
                    let built = searcher.index.build_record();
                    // A search reads the vectors when it first needs them: their damage is
                    // found here without reading them, so the listing does not show it fine.
                    if let Some(damage) = searcher.index.vectors_damage() {
                        notes.push(format!(
                            "its vectors cannot be read ({damage}): vector and hybrid queries fail, BM25 answers; `engine run {}` rebuilds an index found damaged",
                            server.file.display()
                        ));
                    }
                    json!({
                        "index": step,
                        "chunks": searcher.index.chunks(),
                        "documents": searcher.index.documents(),
                        "vectors": searcher.index.model().is_some(),
                        "model": searcher.index.model(),
                        "run_id": built.as_ref().map(|built| &built["run_id"]),
                        "notes": notes,
                    })
                }
                Err(Refusal(_, error, _)) => json!({ "index": step, "open": false, "error": error }),
            })
            .collect();
        Ok(json!({ "pipeline": server.file, "indexes": listed }))
    })
    .await
}

/// A body is read as JSON whatever its `Content-Type` says (`curl -d` sends a form's), up to
/// axum's limit of 2 MiB, within the server's idle timeout; one past [`SMALL_BODY_BYTES`] (or
/// of a length not given) only while one of [`MAX_LARGE_BODIES`] permits is free, a 503 at
/// once otherwise: 400 connections sending 2 MiB bodies at once took 1 GB.
async fn query_by_body(
    State(server): State<Arc<Server>>,
    request: axum::extract::Request,
) -> Result<Json<Value>, Refusal> {
    refuse_url_parameters(request.uri().query())?;
    let declared = (request.headers().get(axum::http::header::CONTENT_LENGTH))
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        // Refused before it is sent, rather than waited for.
        return Err(Refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "a query's body is at most 2 MiB".to_owned(),
            None,
        ));
    }
    let reading = match declared {
        Some(length) if length <= SMALL_BODY_BYTES => None,
        _ => Some(server.large_bodies.clone().try_acquire_owned().map_err(|_| {
            busy(format!(
                "{MAX_LARGE_BODIES} bodies over {} KiB are being read already: try again shortly",
                SMALL_BODY_BYTES / 1024
            ))
        })?),
    };
    let query = query_of(&read_body(&server, request).await?)?;
    drop(reading);
    answer(server, query).await
}

/// A POST's URL parameters refused: they are not read, and a query that named its index in
/// the URL got an error about the index it had not named.
fn refuse_url_parameters(query: Option<&str>) -> Result<(), Refusal> {
    let mut names: Vec<String> = Vec::new();
    for (name, _) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let name = format!("`{}`", crate::stdout::visible(&name));
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Ok(());
    }
    Err(bad_request(format!(
        "parameters in the URL are not read with POST ({}): put them in the JSON body",
        names.join(", ")
    )))
}

/// The body of `request`, within the server's idle timeout (a 408 past it).
async fn read_body(
    server: &Server,
    request: axum::extract::Request,
) -> Result<axum::body::Bytes, Refusal> {
    let reading = axum::body::Bytes::from_request(request, &());
    let Ok(body) = tokio::time::timeout(server.idle_timeout, reading).await else {
        return Err(Refusal(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body did not arrive within {} s",
                server.idle_timeout.as_secs_f64()
            ),
            None,
        ));
    };
    body.map_err(|rejection| {
        Refusal(
            rejection.status(),
            format!(
                "{} (a query's body is at most 2 MiB)",
                rejection.body_text()
            ),
            None,
        )
    })
}

/// The query a body holds: a JSON object of a [`QueryRequest`]'s fields.
fn query_of(body: &[u8]) -> Result<QueryRequest, Refusal> {
    serde_json::from_slice::<QueryRequest>(body).map_err(|err| {
        // Something else than an object is named as what it is, not as serde's struct.
        let problem = match serde_json::from_slice::<Value>(body) {
            Ok(value) if !value.is_object() => format!("it is {}", crate::spec::load::json_kind(&value)),
            // serde names the alias's field alone ("duplicate field `filters`").
            Ok(value) if value.get("filter").is_some() && value.get("filters").is_some() => {
                "`filter` and `filters` are the same field, given twice: give one list".to_owned()
            }
            _ => err.to_string(),
        };
        bad_request(format!(
            "the body is no query ({problem}): send a JSON object with `text` and any of `index`, `mode`, `k`, `filters`, `alpha`, `rrf_k`, `explain`, `context`"
        ))
    })
}

async fn query_by_url(
    State(server): State<Arc<Server>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Refusal> {
    answer(server, from_url(raw.as_deref().unwrap_or_default())?).await
}

/// The query a URL's query string asks for (`text` or `q`, and a `filter` per filter).
fn from_url(raw: &str) -> Result<QueryRequest, Refusal> {
    let mut request = QueryRequest::default();
    let number = |key: &str, value: &str| {
        value
            .parse::<f64>()
            .map_err(|_| bad_request(format!("`{key}` must be a number, not `{value}`")))
    };
    let whole = |key: &str, value: &str| {
        value
            .parse::<usize>()
            .map_err(|_| bad_request(format!("`{key}` must be a whole number, not `{value}`")))
    };
    // The settings given so far, each with the name it was given by.
    let mut given: Vec<(String, String)> = Vec::new();
    for (key, value) in url_pairs(raw)? {
        // Each setting once (`text` and `q` are one); only filters may repeat.
        let setting = if key == "q" { "text" } else { key.as_str() };
        if !matches!(setting, "filter" | "filters") {
            if let Some((_, first)) = given.iter().find(|(seen, _)| seen == setting) {
                let twice = if *first == key {
                    format!("`{key}` is given twice")
                } else {
                    format!("`{first}` and `{key}` are the same parameter, given twice")
                };
                return Err(bad_request(format!(
                    "{twice}: give each parameter once (only `filter` may repeat)"
                )));
            }
            given.push((setting.to_owned(), key.clone()));
        }
        match key.as_str() {
            "text" | "q" => request.text = value,
            "index" => request.index = Some(value),
            "mode" => request.mode = Some(value),
            "k" => request.k = Some(whole("k", &value)?),
            "filter" | "filters" => request.filters.push(value),
            "alpha" => request.alpha = Some(number("alpha", &value)? as f32),
            "context" => request.context = whole("context", &value)?,
            "explain" => {
                request.explain = match value.as_str() {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(bad_request(format!(
                            "`explain` is `true` or `false`, not `{value}`"
                        )));
                    }
                };
            }
            "rrf_k" => request.rrf_k = Some(number("rrf_k", &value)? as f32),
            other => {
                return Err(bad_request(format!(
                    "unknown parameter `{other}`: give `text` and any of `index`, `mode`, `k`, `filter`, `alpha`, `rrf_k`, `explain`, `context`"
                )));
            }
        }
    }
    Ok(request)
}

/// The `key=value` pairs of a URL's query string, decoded as a form's (`+` a space). One that
/// is no UTF-8 once decoded is refused, as in a body (it was read with replacement characters).
fn url_pairs(raw: &str) -> Result<Vec<(String, String)>, Refusal> {
    (raw.split('&').filter(|pair| !pair.is_empty()))
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = url_decoded(key).map_err(|_| not_utf8(key))?;
            let value = url_decoded(value).map_err(|_| not_utf8(&key))?;
            Ok((key, value))
        })
        .collect()
}

fn url_decoded(part: &str) -> Result<String, std::str::Utf8Error> {
    let spaced = part.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&spaced).decode_utf8()?;
    Ok(decoded.into_owned())
}

fn not_utf8(name: &str) -> Refusal {
    bad_request(format!(
        "the URL parameter `{}` is not UTF-8 once its %-escapes are decoded: percent-encode the UTF-8 bytes of the text",
        crate::stdout::visible(name)
    ))
}

/// Answers `request` on a blocking thread (embedding and searching are CPU and disk work).
async fn answer(server: Arc<Server>, request: QueryRequest) -> Result<Json<Value>, Refusal> {
    on_blocking_thread(server, move |server| search(server, &request)).await
}

/// Runs `work` on a blocking thread while it holds one of the [`MAX_PENDING`] permits (a 503
/// at once when none is free); the permit goes when the work ends, even if the client hung up.
async fn on_blocking_thread(
    server: Arc<Server>,
    work: impl FnOnce(&Server) -> Result<Value, Refusal> + Send + 'static,
) -> Result<Json<Value>, Refusal> {
    let Ok(permit) = server.pending.clone().try_acquire_owned() else {
        return Err(busy(format!(
            "{MAX_PENDING} requests are being answered already: try again shortly"
        )));
    };
    tokio::task::spawn_blocking(move || {
        let answer = work(&server);
        drop(permit);
        answer
    })
    .await
    .map_err(|err| Refusal(StatusCode::INTERNAL_SERVER_ERROR, err.to_string(), None))?
    .map(Json)
}

/// A 503 for a server too busy to take a request now, saying when to try again.
fn busy(message: String) -> Refusal {
    Refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        message,
        Some(BUSY_RETRY_AFTER),
    )
}

/// The settings of a query, checked as `engine query` checks its flags.
struct Settings {
    index: String,
    /// The index step's slot.
    slot: Arc<Mutex<Slot>>,
    mode: Mode,
    k: usize,
    fusion: Fusion,
    filters: Vec<(String, String)>,
}

fn settings(server: &Server, request: &QueryRequest) -> Result<Settings, Refusal> {
    crate::query::refuse_empty(&request.text)?;
    let slots = server.slots();
    let steps = || slots.keys().cloned().collect::<Vec<_>>().join(", ");
    if slots.is_empty() {
        return Err(bad_request(format!(
            "{} has no `index.hybrid` step any more: there is nothing to search",
            server.file.display()
        )));
    }
    let index = match &request.index {
        Some(index) => index.clone(),
        None if slots.len() == 1 => slots.keys().next().cloned().unwrap_or_default(),
        None => {
            return Err(bad_request(format!(
                "the pipeline has {} indexes: say which with `index` ({})",
                slots.len(),
                steps()
            )));
        }
    };
    let Some(slot) = slots.get(&index).cloned() else {
        return Err(bad_request(format!(
            "no index step `{index}` in {}: its index steps are {}",
            server.file.display(),
            steps()
        )));
    };
    let asked = request.mode.as_deref().unwrap_or("hybrid");
    let mode = [Mode::Hybrid, Mode::Bm25, Mode::Vector]
        .into_iter()
        .find(|mode| crate::compare::mode_name(*mode) == asked)
        .ok_or_else(|| {
            bad_request(format!(
                "`mode` is `hybrid`, `bm25` or `vector`, not `{asked}`"
            ))
        })?;
    let k = request.k.unwrap_or(DEFAULT_K);
    let fusion = fusion(request.alpha, request.rrf_k, mode).map_err(bad_request)?;
    answer_size(k, request.context).map_err(bad_request)?;
    if request.explain && mode != Mode::Hybrid {
        return Err(bad_request(
            "`explain` shows where each hybrid hit stood in the BM25 and vector lists fused into it; in `bm25` or `vector` mode a hit's rank is its list's already: leave it out, or ask for `\"mode\": \"hybrid\"`",
        ));
    }
    let filters = crate::query::parse_filters(&request.filters, Asker::Http)?;
    Ok(Settings {
        index,
        slot,
        mode,
        k,
        fusion,
        filters,
    })
}

/// Checks that `k` hits with `context` chunks on each side of each stay within [`MAX_K`],
/// [`crate::query::MAX_CONTEXT`] and [`MAX_ANSWER_CHUNKS`].
fn answer_size(k: usize, context: usize) -> Result<(), String> {
    if k == 0 {
        return Err("`k` must be at least 1".to_owned());
    }
    if k > MAX_K {
        return Err(format!(
            "`k` is at most {MAX_K} here, not {k}: ask for fewer hits (`engine query -k` has no such limit)"
        ));
    }
    if context > crate::query::MAX_CONTEXT {
        return Err(crate::query::context_too_wide(context, Asker::Http));
    }
    let chunks = k.saturating_mul(2 * context + 1);
    if chunks > MAX_ANSWER_CHUNKS {
        return Err(format!(
            "an answer carries at most {MAX_ANSWER_CHUNKS} chunks, hits and context together: `k` {k} with `context` {context} asks for up to {chunks} (k × (2 × context + 1)); ask for fewer hits or less context"
        ));
    }
    Ok(())
}

/// The fusion `alpha` or `rrf_k` ask for, checked as `engine query` checks `--alpha` and
/// `--rrf-k`: one of them at most, only in hybrid mode, where they change something, and each
/// in its range.
fn fusion(alpha: Option<f32>, rrf_k: Option<f32>, mode: Mode) -> Result<Fusion, String> {
    if alpha.is_some() && rrf_k.is_some() {
        return Err("give `alpha` (weighted fusion) or `rrf_k` (RRF), not both".to_owned());
    }
    let fusion = crate::cli::fusion_asked(alpha, rrf_k, mode == Mode::Hybrid).map_err(|given| {
        let given = match given {
            crate::cli::FusionSetting::Alpha => "alpha",
            crate::cli::FusionSetting::RrfK => "rrf_k",
        };
        format!(
            "`{given}` sets how hybrid mode fuses its two lists: leave it out, or ask for `\"mode\": \"hybrid\"`"
        )
    })?;
    Ok(match fusion {
        Fusion::Weighted { alpha } => Fusion::Weighted {
            alpha: crate::cli::checked_alpha(alpha)?,
        },
        Fusion::Rrf { k } => Fusion::Rrf {
            k: crate::cli::checked_rrf_k(k)?,
        },
    })
}

/// Searches as `engine query --json` does with the pipeline file as it is now (see
/// [`current_searcher`]).
fn search(server: &Server, request: &QueryRequest) -> Result<Value, Refusal> {
    let settings = settings(server, request)?;
    let (searcher, mut notes) = current_searcher(server, &settings.slot, &settings.index)?;
    notes.extend(crate::filter_notes::filter_notes(
        searcher.index.metadata_keys(),
        &settings.filters,
    ));
    let (vector, note) = crate::query::prepare(&searcher, settings.mode, &request.text)?;
    notes.extend(note);
    let mut hits = searcher.search(
        &request.text,
        vector.as_deref(),
        settings.mode,
        settings.k,
        &settings.filters,
        settings.fusion,
    )?;
    crate::query::keep_explain(&mut hits, request.explain);
    searcher.add_context(&mut hits, request.context)?;
    notes.extend(searcher.rebuilt_graph_note());
    Ok(json!({
        "index": settings.index,
        "mode": crate::compare::mode_name(settings.mode),
        "hits": hits,
        "notes": notes,
    }))
}

/// Index `step` and the notes a query of it prints, opened again first when a run has made
/// another generation live since it was opened, when it could not be opened before, or when
/// the file was edited since (another model, another chunk size: the query's embedder and
/// notes follow the file, as a new `engine query`'s would). The slot is locked only for this,
/// so queries of one index search at once.
fn current_searcher(
    server: &Server,
    slot: &Mutex<Slot>,
    step: &str,
) -> Result<(Arc<Searcher>, Vec<String>), Refusal> {
    let mut slot = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let file_stamp = load::file_stamp(&server.file);
    // A text index file cut short under the open index (damage from outside) would kill the
    // server at the first read past its end, and a vectors file of another length than the
    // vectors read from it is damage `engine query` refuses: the index is opened again, which
    // reports either.
    let current = slot.file == file_stamp
        && (slot.searcher.as_ref()).is_some_and(|searcher| {
            searcher.index.is_live()
                && searcher.index.file_cut_short().is_none()
                && searcher.index.vectors_file_changed().is_none()
        });
    if !current {
        let pipeline = match crate::cli::load_to_read(&server.file) {
            Ok((pipeline, _)) => pipeline,
            // A file that does not load now (saved halfway through an edit, or gone while a
            // checkout replaces it) leaves the index open as it was, answering with a note;
            // the next query tries the file again.
            Err(err) if slot.searcher.is_some() => {
                let searcher = slot.searcher.clone().expect("checked above");
                let mut notes = slot.notes.clone();
                // Its first problem, as `validate` says it (file, line, column).
                let why = match err.downcast_ref::<crate::failure::InvalidPipeline>() {
                    Some(crate::failure::InvalidPipeline(report)) => report.to_string(),
                    None => format!("{err:#}"),
                };
                let why = why
                    .lines()
                    .find(|line| !line.trim().is_empty())
                    .unwrap_or("");
                notes.push(format!(
                    "{} does not load now ({}), so `{step}` answers as it was opened before; fix the file and the next query opens it again",
                    server.file.display(),
                    why.trim()
                ));
                return Ok((searcher, notes));
            }
            Err(err) => return Err(err.into()),
        };
        // The model stays loaded while the index is opened again (onnx sessions of equal
        // settings are shared while one is held), so a run costs the next query no model load.
        let model = (slot.searcher.take()).and_then(|searcher| searcher.loaded_embedder());
        let opened = open(&pipeline, step)?;
        // Unless the new index's vectors come from another model (its files replaced in
        // place): that one is loaded afresh.
        let model =
            model.filter(|model| opened.searcher.index.model() == Some(&model.fingerprint()));
        // A model that cannot be loaded is reported by the query.
        let _ = warm_up(&opened.searcher);
        drop(model);
        slot.searcher = Some(Arc::new(opened.searcher));
        slot.notes = opened.notes;
        slot.file = file_stamp;
    }
    let searcher = slot.searcher.clone().expect("opened above");
    Ok((searcher, slot.notes.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_is_given_in_a_requests_terms() {
        assert_eq!(
            in_request_terms(
                "no model (BM25 works without it: `query --mode bm25`, `compare --modes bm25`)"
            ),
            "no model (BM25 works without it: `\"mode\": \"bm25\"`)"
        );
        assert_eq!(
            in_request_terms("no embedder; use --mode bm25"),
            "no embedder; use `\"mode\": \"bm25\"`"
        );
    }

    #[test]
    fn a_url_asks_for_what_a_body_does() {
        let request =
            from_url("q=heap+memory&index=index_a&mode=bm25&k=3&filter=doc_id%3Da.md&filter=page=2&alpha=0.5")
                .ok()
                .unwrap();
        assert_eq!(request.text, "heap memory");
        assert_eq!(request.index.as_deref(), Some("index_a"));
        assert_eq!(request.mode.as_deref(), Some("bm25"));
        assert_eq!(request.k, Some(3));
        assert_eq!(request.filters, ["doc_id=a.md", "page=2"]);
        assert_eq!(request.alpha, Some(0.5));
        for bad in ["k=ten", "alpha=x", "colour=red", "text=%FF%FE", "%C3=x"] {
            let Err(Refusal(status, message, _)) = from_url(bad) else {
                panic!("{bad} accepted");
            };
            assert_eq!(status, StatusCode::BAD_REQUEST, "{message}");
        }
    }

    #[test]
    fn a_url_is_decoded_as_a_form_and_refused_when_no_utf8() {
        let pairs = url_pairs("text=heap+memory%21&&explain&q=%E2%9C%93")
            .ok()
            .unwrap();
        let pairs: Vec<(&str, &str)> = (pairs.iter())
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("text", "heap memory!"), ("explain", ""), ("q", "✓")]
        );
        let Err(Refusal(status, message, _)) = url_pairs("index=a&text=%FF%FE") else {
            panic!("bytes that are no UTF-8 accepted");
        };
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message.contains("`text` is not UTF-8"), "{message}");
    }

    #[test]
    fn a_posts_url_parameters_are_refused_by_name() {
        assert!(refuse_url_parameters(None).is_ok());
        assert!(refuse_url_parameters(Some("")).is_ok());
        let Err(Refusal(status, message, _)) = refuse_url_parameters(Some("k=1&index=a&k=2"))
        else {
            panic!("URL parameters of a POST accepted");
        };
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            message.contains("(`k`, `index`): put them in the JSON body"),
            "{message}"
        );
    }

    #[test]
    fn an_answer_is_bounded_in_hits_and_chunks() {
        assert!(answer_size(1, 0).is_ok());
        assert!(answer_size(MAX_K, 0).is_ok());
        assert!(answer_size(MAX_K, 2).is_ok());
        assert!(answer_size(49, crate::query::MAX_CONTEXT).is_ok());
        for (k, context, says) in [
            (0, 0, "at least 1"),
            (MAX_K + 1, 0, "`k` is at most 1000 here, not 1001"),
            (100_000, 10, "`k` is at most 1000"),
            (10, 51, "more than 50"),
            (50, 50, "asks for up to 5050"),
            (MAX_K, 3, "asks for up to 7000"),
        ] {
            let refused = answer_size(k, context).err().unwrap_or_default();
            assert!(refused.contains(says), "{k} {context}: {refused}");
        }
    }

    #[test]
    fn a_busy_server_says_when_to_try_again() {
        let response = busy("busy".to_owned()).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
