//! The `http` provider: an OpenAI-compatible `POST {base_url}/embeddings` endpoint.
//!
//! Texts go in batches of `batch_size`, up to `concurrency` requests at once, each with a
//! `timeout`. 429, 5xx, timeouts and broken connections are retried with exponential backoff and
//! full jitter (a `Retry-After` in seconds wins); other 4xx and malformed or wrong-sized replies
//! fail at once with a message that says which. The API key is read from the environment
//! variable `api_key_env` names and never appears in vectors, fingerprints, logs or errors.
//!
//! The client is ureq (blocking, no async runtime): plain HTTP by default, HTTPS with the
//! `operators/https` feature (rustls).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{
    EmbedError, Embedder, Embeddings, Placement, default_cache_entries, default_true, l2_normalize,
};
use crate::model::BatchDebug;

/// Settings of the `http` embedding provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// The API root, e.g. `http://127.0.0.1:8080/v1`; requests go to `{base_url}/embeddings`.
    pub base_url: String,
    /// The model name sent with every request.
    pub model: String,
    /// Environment variable holding the API key, sent as `Authorization: Bearer …`.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Texts per request.
    #[serde(default = "default_batch_size")]
    #[schemars(range(min = 1, max = 8192))]
    pub batch_size: usize,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    #[schemars(range(min = 1, max = 256))]
    pub concurrency: usize,
    /// Seconds one request may take before it is abandoned (and retried); at most 3,600.
    #[serde(default = "default_timeout")]
    #[schemars(range(min = 0.0, max = MAX_TIMEOUT_SECONDS))]
    pub timeout: f64,
    /// Retries of one request after a 429, a 5xx, a timeout or a broken connection (at most
    /// 100).
    #[serde(default = "default_retries")]
    #[schemars(range(max = 100))]
    pub retries: u32,
    /// Seconds before the first retry; doubles with every retry (with jitter), at most 60
    /// between two attempts. At most 600.
    #[serde(default = "default_backoff")]
    #[schemars(range(min = 0.0, max = MAX_BACKOFF_SECONDS))]
    pub backoff: f64,
    /// The length every vector must have (default: whatever the first reply gives).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub dimensions: Option<usize>,
    /// Text put before every search query.
    #[serde(default)]
    pub query_prefix: String,
    /// Text put before every document chunk.
    #[serde(default)]
    pub document_prefix: String,
    /// Scale vectors to unit length.
    #[serde(default = "default_true")]
    pub normalize: bool,
    /// Vectors kept in the step's in-memory cache (0: no cache).
    #[serde(default = "default_cache_entries")]
    pub cache_entries: usize,
}

fn default_batch_size() -> usize {
    64
}

fn default_concurrency() -> usize {
    4
}

fn default_timeout() -> f64 {
    60.0
}

fn default_retries() -> u32 {
    5
}

fn default_backoff() -> f64 {
    0.5
}

/// Largest `timeout`, in seconds.
pub const MAX_TIMEOUT_SECONDS: f64 = 3600.0;
/// Largest `backoff`, in seconds.
pub const MAX_BACKOFF_SECONDS: f64 = 600.0;

/// Longest wait between two attempts, whatever the server asks.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// How often a request in flight looks for a stop request.
const STOP_POLL: Duration = Duration::from_millis(50);

impl HttpConfig {
    /// Settings for `model` at `base_url` with every default.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        HttpConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            batch_size: default_batch_size(),
            concurrency: default_concurrency(),
            timeout: default_timeout(),
            retries: default_retries(),
            backoff: default_backoff(),
            dimensions: None,
            query_prefix: String::new(),
            document_prefix: String::new(),
            normalize: true,
            cache_entries: default_cache_entries(),
        }
    }

    /// Problems with the settings that the schema cannot express.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let url = self.base_url.as_str();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            problems.push((
                "base_url",
                format!("`{url}` is not an http:// or https:// URL"),
            ));
        } else if url.starts_with("https://") && !cfg!(feature = "https") {
            problems.push((
                "base_url",
                "https needs the engine built with the `operators/https` feature".to_owned(),
            ));
        }
        if !(self.timeout > 0.0 && self.timeout <= MAX_TIMEOUT_SECONDS) {
            problems.push((
                "timeout",
                format!("must be more than 0 and at most {MAX_TIMEOUT_SECONDS} seconds"),
            ));
        }
        if !(self.backoff >= 0.0 && self.backoff <= MAX_BACKOFF_SECONDS) {
            problems.push((
                "backoff",
                format!("must be from 0 to {MAX_BACKOFF_SECONDS} seconds"),
            ));
        }
        problems
    }

    /// What is missing from the environment for this provider to answer: the API key. Only
    /// what embeds needs it, so it warns; querying BM25 or inspecting a run never does.
    pub fn environment_warnings(&self) -> Vec<(&'static str, String)> {
        match &self.api_key_env {
            Some(var) if std::env::var_os(var).is_none() => vec![(
                "api_key_env",
                format!("environment variable `{var}` is not set"),
            )],
            _ => Vec::new(),
        }
    }
}

/// The most bytes read of a reply for `texts` texts: 1 MiB plus 512 KiB a text (a vector of
/// 20,000 numbers as JSON), at most 256 MiB.
fn reply_limit(texts: usize) -> u64 {
    (1u64 << 20)
        .saturating_add((texts as u64).saturating_mul(512 << 10))
        .min(256 << 20)
}

fn too_large(url: &str, limit: u64, texts: usize) -> String {
    format!(
        "{url}: the reply is larger than {} MiB, far more than {texts} embeddings need",
        limit >> 20
    )
}

/// An OpenAI-compatible embeddings endpoint.
pub struct HttpEmbedder {
    /// What one request needs, shared with the thread it runs on.
    client: Arc<Client>,
    batch_size: usize,
    concurrency: usize,
    retries: u32,
    backoff: Duration,
    query_prefix: String,
    document_prefix: String,
    normalize: bool,
    fingerprint: String,
}

/// The endpoint, and how to ask it and read its replies.
struct Client {
    agent: ureq::Agent,
    url: String,
    model: String,
    api_key: Option<String>,
    /// `timeout`, in seconds, to say in an error.
    timeout: f64,
    /// The vector length: from the settings, else learnt from this process's first reply.
    dimensions: Mutex<Option<usize>>,
    /// Whether `dimensions` came from the settings.
    dimensions_configured: bool,
}

impl std::fmt::Debug for HttpEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("HttpEmbedder")
            .field("url", &self.client.url)
            .field("model", &self.client.model)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [String],
    encoding_format: &'static str,
}

#[derive(Deserialize)]
struct Reply {
    data: Vec<ReplyItem>,
}

#[derive(Deserialize)]
struct ReplyItem {
    embedding: Vec<f32>,
    #[serde(default)]
    index: Option<usize>,
}

/// The vectors of one batch and what they cost, or why there are none.
type BatchResult = Result<(Vec<Vec<f32>>, BatchDebug), EmbedError>;

/// Why one attempt failed, and whether another may succeed.
enum Attempt {
    Retry { why: String, wait: Option<Duration> },
    Fail(String),
}

/// Keys at least this long are redacted wherever they appear; shorter ones (test keys) only
/// as whole words, so that a key `ed` does not turn "expected" into "expect[redacted]".
const REDACT_ANYWHERE_LEN: usize = 16;

/// `text` with every occurrence of `key`, as it is or as a server may echo it (percent-encoded
/// in a URL, escaped in JSON), replaced by `[redacted]`: anywhere for a long key, only where no
/// letter or digit touches it for a short one.
fn redact(text: &str, key: &str) -> String {
    let mut forms = vec![key.to_owned()];
    let percent = |upper: bool| -> String {
        key.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(b).to_string()
                }
                _ if upper => format!("%{b:02X}"),
                _ => format!("%{b:02x}"),
            })
            .collect()
    };
    let json = serde_json::to_string(key).unwrap_or_default();
    let json = json.trim_matches('"');
    for form in [
        percent(true),
        percent(false),
        json.to_owned(),
        json.replace('/', "\\/"),
    ] {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    let mut text = text.to_owned();
    for form in &forms {
        text = redact_form(&text, form, key.chars().count() >= REDACT_ANYWHERE_LEN);
    }
    text
}

/// `text` with `form` replaced by `[redacted]` (`anywhere`, or only where no letter or digit
/// touches it).
fn redact_form(text: &str, key: &str, anywhere: bool) -> String {
    if anywhere {
        return text.replace(key, "[redacted]");
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in text.match_indices(key) {
        if at < rest {
            continue;
        }
        let end = at + key.len();
        let touches = text[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
            || text[end..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric);
        if !touches {
            out.push_str(&text[rest..at]);
            out.push_str("[redacted]");
            rest = end;
        }
    }
    out.push_str(&text[rest..]);
    out
}

impl HttpEmbedder {
    /// A client for the endpoint `config` names.
    pub fn new(config: &HttpConfig) -> Result<Self, EmbedError> {
        if let Some((_, message)) = config.problems().into_iter().next() {
            return Err(EmbedError::new(message));
        }
        let api_key = match &config.api_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                EmbedError::new(format!("environment variable `{var}` is not set"))
            })?),
            None => None,
        };
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(seconds(config.timeout, "timeout")?))
                .user_agent("engine-embed")
                .build(),
        );
        let url = format!("{}/embeddings", config.base_url.trim_end_matches('/'));
        let fingerprint = format!(
            "http:{}:{}",
            config.model,
            &blake3::hash(
                format!(
                    "{url}\0{}\0{}\0{}\0{:?}",
                    config.query_prefix,
                    config.document_prefix,
                    config.normalize,
                    config.dimensions
                )
                .as_bytes()
            )
            .to_hex()[..16]
        );
        Ok(HttpEmbedder {
            client: Arc::new(Client {
                agent,
                url,
                model: config.model.clone(),
                api_key,
                timeout: config.timeout,
                dimensions: Mutex::new(config.dimensions),
                dimensions_configured: config.dimensions.is_some(),
            }),
            batch_size: config.batch_size.max(1),
            concurrency: config.concurrency.max(1),
            retries: config.retries,
            backoff: seconds(config.backoff, "backoff")?,
            query_prefix: config.query_prefix.clone(),
            document_prefix: config.document_prefix.clone(),
            normalize: config.normalize,
            fingerprint,
        })
    }

    /// One request, retried (unless `stop` is set: then it stops with
    /// [`EmbedError::stopped`] rather than wait for the reply or to try again); the vectors and
    /// the number of retries.
    fn request(
        &self,
        texts: &[String],
        stop: &AtomicBool,
    ) -> Result<(Vec<Vec<f32>>, usize), EmbedError> {
        let mut attempt = 0u32;
        loop {
            let Some(result) = self.attempt_until(texts, stop) else {
                return Err(EmbedError::stopped());
            };
            match result {
                Ok(vectors) => return Ok((vectors, attempt as usize)),
                Err(Attempt::Fail(message)) => {
                    return Err(EmbedError::new(self.client.redact(&message)));
                }
                // A failure once a stop came (a reply cut off by it) is no fault of the server.
                Err(Attempt::Retry { .. }) if stop.load(Ordering::Relaxed) => {
                    return Err(EmbedError::stopped());
                }
                Err(Attempt::Retry { why, wait }) => {
                    if attempt >= self.retries {
                        let attempts = match attempt + 1 {
                            1 => "1 attempt".to_owned(),
                            n => format!("{n} attempts"),
                        };
                        // `why` names the endpoint.
                        return Err(EmbedError::provider_unavailable(
                            self.client
                                .redact(&format!("gave up after {attempts}; last: {why}")),
                        ));
                    }
                    let backoff = self.backoff.saturating_mul(1 << attempt.min(16));
                    let jittered = backoff.mul_f64(jitter()).min(MAX_WAIT);
                    let wait = wait.map(|w| w.min(MAX_WAIT)).unwrap_or(jittered);
                    if !sleep_unless_stopped(wait, stop) {
                        return Err(EmbedError::stopped());
                    }
                    attempt += 1;
                }
            }
        }
    }

    /// One attempt; `None` when `stop` came first. The attempt runs on a thread of its own, so
    /// that a stop is seen while a slow server takes its time (up to `timeout`): the thread is
    /// then left to end by itself, and nothing waits for it.
    fn attempt_until(
        &self,
        texts: &[String],
        stop: &AtomicBool,
    ) -> Option<Result<Vec<Vec<f32>>, Attempt>> {
        if std::ptr::eq(stop, &super::NEVER) {
            return Some(self.client.attempt(texts));
        }
        let client = Arc::clone(&self.client);
        let owned = texts.to_vec();
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("embed-http".into())
            .spawn(move || {
                let _ = reply.send(client.attempt(&owned));
            });
        if spawned.is_err() {
            return Some(self.client.attempt(texts));
        }
        loop {
            match answer.recv_timeout(STOP_POLL) {
                Ok(result) => return Some(result),
                Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Relaxed) => return None,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Some(Err(Attempt::Retry {
                        why: format!("{}: the request ended without a result", self.client.url),
                        wait: None,
                    }));
                }
            }
        }
    }
}

impl Client {
    /// A request's error, a timeout with the setting that set it.
    fn describe(&self, err: &ureq::Error) -> String {
        match err {
            ureq::Error::Timeout(_) => format!(
                "no complete reply within {} s (the embed step's `timeout`)",
                self.timeout
            ),
            other => other.to_string(),
        }
    }

    /// The first 200 characters of a reply, the key removed first (a key cut in two by the
    /// excerpt would no longer be found).
    fn excerpt(&self, text: &str) -> String {
        excerpt(&self.redact(text))
    }

    /// Removes the key from text that may echo it (server messages).
    fn redact(&self, text: &str) -> String {
        match &self.api_key {
            Some(key) if !key.is_empty() => redact(text, key),
            _ => text.to_owned(),
        }
    }

    fn attempt(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Attempt> {
        let mut request = self.agent.post(&self.url);
        if let Some(key) = &self.api_key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let body = Request {
            model: &self.model,
            input: texts,
            encoding_format: "float",
        };
        let mut response = match request.send_json(&body) {
            Ok(response) => response,
            Err(err) => {
                return Err(Attempt::Retry {
                    why: format!("{}: {}", self.url, self.describe(&err)),
                    wait: None,
                });
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(retry_after);
        // A reply holds a vector per text: far less than this, unless the server misbehaves.
        let limit = reply_limit(texts.len());
        let announced = response
            .headers()
            .get("content-length")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        let retryable = status == 429 || (500..600).contains(&status);
        // A reply too large to read: a retryable status is still retried (a proxy's 503 page),
        // and any other says its status.
        let oversized = |texts: &[String]| {
            let answered = || {
                format!(
                    "{} answered {status} with a reply larger than {} MiB (not read)",
                    self.url,
                    limit >> 20
                )
            };
            if retryable {
                Attempt::Retry {
                    why: answered(),
                    wait: retry_after,
                }
            } else if (200..300).contains(&status) {
                Attempt::Fail(too_large(&self.url, limit, texts.len()))
            } else {
                Attempt::Fail(answered())
            }
        };
        if announced.is_some_and(|length| length > limit) {
            return Err(oversized(texts));
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_string();
        let text = match text {
            Ok(text) => text,
            Err(ureq::Error::BodyExceedsLimit(_)) => return Err(oversized(texts)),
            Err(err) => {
                return Err(Attempt::Retry {
                    why: format!("{}: reading the reply: {}", self.url, self.describe(&err)),
                    wait: None,
                });
            }
        };
        if retryable {
            return Err(Attempt::Retry {
                why: format!("{} answered {status}: {}", self.url, self.excerpt(&text)),
                wait: retry_after,
            });
        }
        if !(200..300).contains(&status) {
            return Err(Attempt::Fail(format!(
                "{} answered {status}: {}{}",
                self.url,
                self.excerpt(&text),
                match status {
                    401 | 403 => " (check the API key in `api_key_env`)",
                    404 => " (check `base_url`: requests go to {base_url}/embeddings)",
                    _ => "",
                }
            )));
        }
        self.parse(&text, texts.len()).map_err(Attempt::Fail)
    }

    fn parse(&self, text: &str, expected: usize) -> Result<Vec<Vec<f32>>, String> {
        let reply: Reply = serde_json::from_str(text).map_err(|err| {
            format!(
                "{}: malformed reply ({err}): {}",
                self.url,
                self.excerpt(text)
            )
        })?;
        if reply.data.len() != expected {
            return Err(format!(
                "{}: {} embeddings for {expected} texts",
                self.url,
                reply.data.len()
            ));
        }
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; expected];
        for (position, item) in reply.data.into_iter().enumerate() {
            let index = item.index.unwrap_or(position);
            let slot = vectors
                .get_mut(index)
                .ok_or_else(|| format!("{}: embedding index {index} out of range", self.url))?;
            if slot.is_some() {
                return Err(format!("{}: embedding index {index} repeated", self.url));
            }
            if item.embedding.is_empty() || item.embedding.iter().any(|x| !x.is_finite()) {
                return Err(format!(
                    "{}: embedding {index} is empty or not finite",
                    self.url
                ));
            }
            // No text embeds to nothing: a provider fault (a placeholder, a broken model), and
            // a vector no query could ever find.
            if item.embedding.iter().all(|&x| x == 0.0) {
                return Err(format!(
                    "{}: embedding {index} is all zeros, which no text embeds to: is the model or its deployment broken?",
                    self.url
                ));
            }
            *slot = Some(item.embedding);
        }
        let vectors: Vec<Vec<f32>> = vectors.into_iter().flatten().collect();
        let mut dimensions = self
            .dimensions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let wanted = *dimensions.get_or_insert(vectors[0].len());
        if let Some(wrong) = vectors.iter().find(|vector| vector.len() != wanted) {
            let why = if self.dimensions_configured {
                " (`dimensions`)"
            } else {
                ", the size of this run's first reply: set `dimensions` on the embed step to say \
                 which size is right"
            };
            return Err(format!(
                "{}: an embedding has {} dimensions, expected {wanted}{why}",
                self.url,
                wrong.len()
            ));
        }
        Ok(vectors)
    }
}

impl HttpEmbedder {
    /// Embeds texts with `prefix` in batches, `concurrency` requests at a time, until `stop`
    /// is set: no request starts after that (see [`Embedder::embed_documents_until`]).
    fn embed_prefixed(
        &self,
        texts: &[&str],
        prefix: &str,
        stop: &AtomicBool,
    ) -> Result<Embeddings, EmbedError> {
        let texts: Vec<String> = texts.iter().map(|text| format!("{prefix}{text}")).collect();
        let batches: Vec<&[String]> = texts.chunks(self.batch_size).collect();
        let results: Vec<Mutex<Option<BatchResult>>> =
            batches.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let failed = std::sync::atomic::AtomicBool::new(false);
        let work = || {
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= batches.len()
                    || failed.load(Ordering::SeqCst)
                    || stop.load(Ordering::Relaxed)
                {
                    break;
                }
                let started = Instant::now();
                let result = self
                    .request(batches[index], stop)
                    .map(|(vectors, retries)| {
                        let debug = BatchDebug {
                            size: batches[index].len(),
                            seconds: started.elapsed().as_secs_f64(),
                            retries,
                            ..BatchDebug::default()
                        };
                        (vectors, debug)
                    });
                if result.as_ref().is_err_and(|err| !err.stopped) {
                    failed.store(true, Ordering::SeqCst);
                }
                *results[index].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
            }
        };
        let workers = self.concurrency.min(batches.len());
        if workers <= 1 {
            work();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(work);
                }
            });
        }
        let results: Vec<Option<BatchResult>> = results
            .into_iter()
            .map(|result| result.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect();
        if let Some(Err(err)) = results
            .iter()
            .flatten()
            .find(|result| result.as_ref().is_err_and(|err| !err.stopped))
        {
            return Err(err.clone());
        }
        let mut embeddings = Embeddings::default();
        for (result, batch) in results.into_iter().zip(&batches) {
            match result {
                Some(Ok((vectors, debug))) => {
                    embeddings.vectors.extend(vectors.into_iter().map(|mut v| {
                        if self.normalize {
                            l2_normalize(&mut v);
                        }
                        v
                    }));
                    let batch = embeddings.batches.len();
                    embeddings.placements.extend(std::iter::repeat_n(
                        Placement {
                            batch,
                            truncated: false,
                        },
                        debug.size,
                    ));
                    embeddings.batches.push(debug);
                }
                // Not run, or its retries stopped: left out on request (any other failure
                // returned above, and a batch runs unless one failed or a stop came).
                Some(Err(_)) | None => {
                    embeddings.stopped = true;
                    embeddings
                        .vectors
                        .extend(std::iter::repeat_n(Vec::new(), batch.len()));
                    embeddings
                        .placements
                        .extend(std::iter::repeat_n(Placement::default(), batch.len()));
                }
            }
        }
        if embeddings.vectors.len() != texts.len() {
            return Err(EmbedError::new(format!(
                "{}: {} vectors for {} texts",
                self.client.url,
                embeddings.vectors.len(),
                texts.len()
            )));
        }
        Ok(embeddings)
    }
}

/// The first 200 characters of a reply, on one line.
fn excerpt(text: &str) -> String {
    let line: String = text.chars().take(200).collect();
    let line = line.replace(['\n', '\r'], " ");
    if text.chars().count() > 200 {
        format!("{line}…")
    } else {
        line
    }
}

/// The wait a `Retry-After` header in seconds asks for, at most [`MAX_WAIT`]; `None` for a
/// value that is not a number of seconds (an HTTP date, say).
fn retry_after(value: &str) -> Option<Duration> {
    let seconds = value.trim().parse::<f64>().ok().filter(|s| *s >= 0.0)?;
    Some(
        Duration::try_from_secs_f64(seconds)
            .unwrap_or(MAX_WAIT)
            .min(MAX_WAIT),
    )
}

/// A setting in seconds as a duration; an error, not a panic, for one no duration can hold.
fn seconds(value: f64, key: &str) -> Result<Duration, EmbedError> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| EmbedError::new(format!("`{key}` of {value} seconds is out of range")))
}

/// Sleeps for `wait`, in steps short enough to see `stop` soon; false when it was set.
fn sleep_unless_stopped(wait: Duration, stop: &AtomicBool) -> bool {
    const STEP: Duration = Duration::from_millis(50);
    let until = Instant::now() + wait;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(STEP));
    }
}

/// A factor in [0.5, 1.0): jitter for backoffs, without a random number crate.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    0.5 + (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64 / 2.0
}

impl Embedder for HttpEmbedder {
    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(self.embed_documents_debug(texts)?.vectors)
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        self.embed_prefixed(&[text], &self.query_prefix, &super::NEVER)?
            .vectors
            .pop()
            .ok_or_else(|| EmbedError::new("the endpoint returned no vector"))
    }

    fn embed_documents_debug(&self, texts: &[&str]) -> Result<Embeddings, EmbedError> {
        if texts.is_empty() {
            return Ok(Embeddings::default());
        }
        self.embed_prefixed(texts, &self.document_prefix, &super::NEVER)
    }

    fn embed_documents_until(
        &self,
        texts: &[&str],
        stop: &AtomicBool,
    ) -> Result<Embeddings, EmbedError> {
        if texts.is_empty() {
            return Ok(Embeddings::default());
        }
        self.embed_prefixed(texts, &self.document_prefix, stop)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use axum::Router;
    use axum::extract::{Json, Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use serde_json::{Value, json};

    use super::*;

    const KEY: &str = "sk-test-secret-0123456789";

    /// The stop requests the `stop-…` modes make.
    static STOP_OK: AtomicBool = AtomicBool::new(false);
    static STOP_DOWN: AtomicBool = AtomicBool::new(false);
    static STOP_HANG: AtomicBool = AtomicBool::new(false);

    /// Requests seen per mode.
    type Hits = Arc<Mutex<HashMap<String, usize>>>;

    fn vector_for(text: &str) -> Vec<f32> {
        vec![text.len() as f32, 1.0, 0.0]
    }

    /// An OpenAI-like endpoint at `/{mode}/v1/embeddings` whose mode picks its misbehaviour.
    async fn embeddings(
        State(hits): State<Hits>,
        Path(mode): Path<String>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> Response {
        let hit = {
            let mut hits = hits.lock().unwrap();
            let count = hits.entry(mode.clone()).or_default();
            *count += 1;
            *count
        };
        let texts: Vec<String> = body["input"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|t| t.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        // Replies list the items in reverse order, with their indexes, as servers may.
        let good = || {
            let data: Vec<Value> = texts
                .iter()
                .enumerate()
                .rev()
                .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": vector_for(text)}))
                .collect();
            Json(json!({"object": "list", "data": data, "model": body["model"]})).into_response()
        };
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        match mode.as_str() {
            "ok" => good(),
            "auth" if auth == format!("Bearer {KEY}") => good(),
            "auth" => (StatusCode::UNAUTHORIZED, "bad key").into_response(),
            // 429 with Retry-After, then 503, then fine.
            "flaky" => match hit {
                1 => (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "0")],
                    "slow down",
                )
                    .into_response(),
                2 => (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response(),
                _ => good(),
            },
            "down" => (StatusCode::INTERNAL_SERVER_ERROR, "always down").into_response(),
            // Ctrl-C while the first request runs: answered, or failed (a retry would follow).
            "stop-ok" => {
                STOP_OK.store(true, Ordering::SeqCst);
                good()
            }
            "stop-down" => {
                STOP_DOWN.store(true, Ordering::SeqCst);
                (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
            }
            // Ctrl-C while the server takes its time: it answers only after 30 s.
            "stop-hang" => {
                STOP_HANG.store(true, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(30)).await;
                good()
            }
            "zeros" => {
                let data: Vec<Value> = texts
                    .iter()
                    .enumerate()
                    .map(|(index, _)| json!({"index": index, "embedding": [0.0, 0.0, 0.0]}))
                    .collect();
                Json(json!({"data": data})).into_response()
            }
            "slow" => {
                if hit == 1 {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                good()
            }
            // Echoes the Authorization header: the key must not reach the error message.
            "echo" => (
                StatusCode::BAD_REQUEST,
                format!("invalid request, got {auth}"),
            )
                .into_response(),
            "garbage" => (StatusCode::OK, "<html>not json</html>").into_response(),
            // 8 MiB of JSON whitespace for one text: its length announced, or streamed without.
            "huge" => (StatusCode::OK, " ".repeat(8 << 20)).into_response(),
            // A proxy's 503 page, larger than any reply, then the answer.
            "huge-503" if hit == 1 => {
                (StatusCode::SERVICE_UNAVAILABLE, " ".repeat(8 << 20)).into_response()
            }
            "huge-503" => good(),
            "huge-stream" => {
                let chunks = (0..128).map(|_| Ok::<_, std::io::Error>(" ".repeat(64 << 10)));
                axum::body::Body::from_stream(futures_util::stream::iter(chunks)).into_response()
            }
            "short" => Json(json!({"data": [{"index": 0, "embedding": [1.0]}]})).into_response(),
            "ragged" => {
                let data: Vec<Value> = texts
                    .iter()
                    .enumerate()
                    .map(|(index, _)| json!({"index": index, "embedding": vec![1.0; index + 1]}))
                    .collect();
                Json(json!({"data": data})).into_response()
            }
            _ => (StatusCode::NOT_FOUND, "no such mode").into_response(),
        }
    }

    /// Starts the test server on 127.0.0.1; returns its address and hit counters.
    fn server() -> (String, Hits) {
        let hits: Hits = Arc::default();
        let state = hits.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new()
                    .route("/{mode}/v1/embeddings", post(embeddings))
                    .with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        (format!("http://{}", rx.recv().unwrap()), hits)
    }

    fn config(base: &str, mode: &str) -> HttpConfig {
        let mut config = HttpConfig::new(format!("{base}/{mode}/v1"), "test-model");
        config.backoff = 0.01;
        config.timeout = 1.0;
        config.retries = 3;
        config.batch_size = 2;
        config.normalize = false;
        config
    }

    fn texts() -> Vec<&'static str> {
        vec!["a", "bb", "ccc", "dddd", "eeeee"]
    }

    /// A stop request is seen between requests and before a retry: no request starts after
    /// it, the texts of batches not sent have no vector, and the call says it stopped.
    #[test]
    fn a_stop_request_sends_no_more_requests() {
        let (base, hits) = server();
        let mut settings = config(&base, "stop-ok");
        settings.concurrency = 1;
        let embedder = HttpEmbedder::new(&settings).unwrap();
        let out = embedder.embed_documents_until(&texts(), &STOP_OK).unwrap();
        assert_eq!(hits.lock().unwrap()["stop-ok"], 1);
        assert!(out.stopped);
        assert_eq!(out.batches.len(), 1);
        assert_eq!(out.vectors[..2], [vector_for("a"), vector_for("bb")]);
        assert!(out.vectors[2..].iter().all(Vec::is_empty));
        assert_eq!(out.vectors.len(), 5);
        // A failed request is not retried once a stop came: stopped, not unavailable.
        let mut settings = config(&base, "stop-down");
        settings.concurrency = 1;
        let embedder = HttpEmbedder::new(&settings).unwrap();
        let out = embedder
            .embed_documents_until(&texts(), &STOP_DOWN)
            .unwrap();
        assert_eq!(hits.lock().unwrap()["stop-down"], 1);
        assert!(out.stopped && out.batches.is_empty());
        assert!(out.vectors.iter().all(Vec::is_empty));
    }

    /// A stop while a request waits on a server that takes its time (up to `timeout`) is seen
    /// at once: the call says it stopped, without waiting for the reply, and nothing failed.
    #[test]
    fn a_stop_request_does_not_wait_for_a_slow_reply() {
        let (base, _) = server();
        let mut settings = config(&base, "stop-hang");
        settings.timeout = 60.0;
        settings.retries = 0;
        let embedder = HttpEmbedder::new(&settings).unwrap();
        let started = Instant::now();
        let out = embedder
            .embed_documents_until(&texts(), &STOP_HANG)
            .unwrap();
        assert!(out.stopped && out.batches.is_empty());
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "waited {:?} for a reply after the stop",
            started.elapsed()
        );
    }

    /// An embedding of zeros is a provider fault, not a vector: the texts fail, saying so.
    #[test]
    fn an_embedding_of_zeros_is_an_error() {
        let (base, _) = server();
        let embedder = HttpEmbedder::new(&config(&base, "zeros")).unwrap();
        let err = embedder.embed_documents(&["a"]).unwrap_err();
        assert!(err.to_string().contains("is all zeros"), "{err}");
    }

    #[test]
    fn batches_concurrently_and_keeps_order() {
        let (base, hits) = server();
        let embedder = HttpEmbedder::new(&config(&base, "ok")).unwrap();
        let out = embedder.embed_documents_debug(&texts()).unwrap();
        let expected: Vec<Vec<f32>> = texts().iter().map(|t| vector_for(t)).collect();
        assert_eq!(out.vectors, expected);
        assert_eq!(out.batches.len(), 3);
        assert_eq!(hits.lock().unwrap()["ok"], 3);
        let query = embedder.embed_query("four").unwrap();
        assert_eq!(query, vector_for("four"));
    }

    #[test]
    fn retries_429_and_5xx() {
        let (base, hits) = server();
        let mut config = config(&base, "flaky");
        config.batch_size = 10;
        let embedder = HttpEmbedder::new(&config).unwrap();
        let out = embedder.embed_documents_debug(&texts()).unwrap();
        assert_eq!(out.vectors.len(), 5);
        assert_eq!(out.batches[0].retries, 2);
        assert_eq!(hits.lock().unwrap()["flaky"], 3);
    }

    #[test]
    fn retries_timeouts() {
        let (base, hits) = server();
        let mut config = config(&base, "slow");
        config.batch_size = 10;
        config.timeout = 0.5;
        let embedder = HttpEmbedder::new(&config).unwrap();
        let started = Instant::now();
        let out = embedder.embed_documents_debug(&["x"]).unwrap();
        assert_eq!(out.vectors, vec![vector_for("x")]);
        assert_eq!(out.batches[0].retries, 1);
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(hits.lock().unwrap()["slow"], 2);
    }

    /// Settings and headers in seconds become durations without panicking, whatever their size.
    #[test]
    fn seconds_out_of_range_are_errors_not_panics() {
        assert_eq!(retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(retry_after("1e308"), Some(MAX_WAIT));
        assert_eq!(retry_after("inf"), Some(MAX_WAIT));
        assert_eq!(retry_after("-1"), None);
        assert_eq!(retry_after("NaN"), None);
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert!(seconds(1e308, "timeout").is_err());
        assert!(seconds(f64::NAN, "backoff").is_err());
        let mut config = HttpConfig::new("http://127.0.0.1:9/v1", "m");
        config.timeout = 1e308;
        config.backoff = 1e308;
        let keys: Vec<&str> = config.problems().iter().map(|(key, _)| *key).collect();
        assert_eq!(keys, ["timeout", "backoff"]);
        assert!(HttpEmbedder::new(&config).is_err());
    }

    #[test]
    fn gives_up_after_the_retries() {
        let (base, hits) = server();
        let embedder = HttpEmbedder::new(&config(&base, "down")).unwrap();
        let err = embedder.embed_documents(&["x"]).unwrap_err();
        assert!(
            err.unavailable,
            "retries spent: the provider counts as down"
        );
        let err = err.to_string();
        assert!(err.contains("gave up after 4 attempts"), "{err}");
        assert!(err.contains("500"), "{err}");
        assert_eq!(err.matches("/down/v1/embeddings").count(), 1, "{err}");
        assert_eq!(hits.lock().unwrap()["down"], 4);
    }

    /// A short key is redacted only as a word of its own: "expected" stays whole with key
    /// `ed`, and the message around a long key is kept.
    #[test]
    fn redaction_keeps_words_that_contain_a_short_key() {
        assert_eq!(
            redact("an embedding has 8 dimensions, expected 16 (key: ed)", "ed"),
            "an embedding has 8 dimensions, expected 16 (key: [redacted])"
        );
        assert_eq!(redact("x-x x", "x"), "[redacted]-[redacted] [redacted]");
        let long = "sk-0123456789abcdef0123";
        assert_eq!(
            redact(&format!("Bearer%20{long}: bad key {long}x"), long),
            "Bearer%20[redacted]: bad key [redacted]x"
        );
        // As a server may echo it: percent-encoded (either case) or escaped in JSON.
        let key = "sk-Abc/def+ghi=jkl1234567890XYZ";
        let echoed = r#"{"key": "sk-Abc\/def+ghi=jkl1234567890XYZ"} url: ?k=sk-Abc%2Fdef%2Bghi%3Djkl1234567890XYZ or sk-Abc%2fdef%2bghi%3djkl1234567890XYZ"#;
        let redacted = redact(echoed, key);
        assert!(!redacted.contains("jkl1234567890"), "{redacted}");
        assert_eq!(redacted.matches("[redacted]").count(), 3, "{redacted}");
    }

    #[test]
    fn client_errors_fail_at_once_without_the_key() {
        let (base, hits) = server();
        let var = "ENGINE_TEST_EMBED_KEY_ECHO";
        // SAFETY: set once by this test, read only by it.
        unsafe { std::env::set_var(var, KEY) };
        let mut config = config(&base, "echo");
        config.api_key_env = Some(var.to_owned());
        let embedder = HttpEmbedder::new(&config).unwrap();
        let err = embedder.embed_documents(&["x"]).unwrap_err();
        assert!(!err.unavailable, "a refusal is about the input");
        let err = err.to_string();
        assert!(err.contains("400"), "{err}");
        assert!(!err.contains(KEY), "the key leaked: {err}");
        assert!(err.contains("[redacted]"), "{err}");
        assert!(!format!("{embedder:?}").contains(KEY));
        assert!(!embedder.fingerprint().contains(KEY));
        assert_eq!(hits.lock().unwrap()["echo"], 1, "4xx is not retried");
    }

    /// A key the 200-character excerpt of a reply would cut in two is removed before the cut:
    /// its first part was shown.
    #[test]
    fn a_key_across_the_excerpts_end_is_removed_first() {
        let var = "ENGINE_TEST_EMBED_KEY_EXCERPT";
        // SAFETY: set once by this test, read only by it.
        unsafe { std::env::set_var(var, KEY) };
        let mut config = config("http://127.0.0.1:9", "unused");
        config.api_key_env = Some(var.to_owned());
        let embedder = HttpEmbedder::new(&config).unwrap();
        let reply = format!("{}{KEY} is not a valid key", "x".repeat(190));
        let shown = embedder.client.excerpt(&reply);
        assert!(!shown.contains(&KEY[..8]), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn sends_the_key_from_the_environment() {
        let (base, _) = server();
        let var = "ENGINE_TEST_EMBED_KEY_AUTH";
        // SAFETY: set once by this test, read only by it.
        unsafe { std::env::set_var(var, KEY) };
        let mut config = config(&base, "auth");
        config.api_key_env = Some(var.to_owned());
        let embedder = HttpEmbedder::new(&config).unwrap();
        assert_eq!(embedder.embed_documents(&["x"]).unwrap().len(), 1);
        let unauthorized = HttpEmbedder::new(&self::config(&base, "auth")).unwrap();
        let err = unauthorized
            .embed_documents(&["x"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("401") && err.contains("api_key_env"), "{err}");
        let mut missing = self::config(&base, "auth");
        missing.api_key_env = Some("ENGINE_TEST_EMBED_KEY_UNSET".to_owned());
        assert!(
            HttpEmbedder::new(&missing)
                .unwrap_err()
                .to_string()
                .contains("ENGINE_TEST_EMBED_KEY_UNSET")
        );
    }

    #[test]
    fn malformed_and_wrong_sized_replies_are_errors() {
        let (base, _) = server();
        for (mode, needle) in [
            ("garbage", "malformed reply"),
            ("short", "1 embeddings for 2 texts"),
            ("ragged", "dimensions"),
        ] {
            let embedder = HttpEmbedder::new(&config(&base, mode)).unwrap();
            let err = embedder
                .embed_documents(&["x", "y"])
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{mode}: {err}");
        }
        let mut fixed = config(&base, "ok");
        fixed.dimensions = Some(4);
        let err = HttpEmbedder::new(&fixed)
            .unwrap()
            .embed_documents(&["x"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("3 dimensions, expected 4 (`dimensions`)"),
            "{err}"
        );
    }

    #[test]
    fn a_reply_far_larger_than_its_vectors_is_refused_without_retrying() {
        let (base, hits) = server();
        for mode in ["huge", "huge-stream"] {
            let err = HttpEmbedder::new(&config(&base, mode))
                .unwrap()
                .embed_documents(&["x"])
                .unwrap_err();
            assert!(!err.unavailable, "{mode}");
            let err = err.to_string();
            assert!(err.contains("larger than 1 MiB"), "{mode}: {err}");
            assert_eq!(hits.lock().unwrap()[mode], 1, "{mode}: not retried");
        }
        assert_eq!(reply_limit(10_000), 256 << 20);
        // A 503 with a page larger than any reply is retried, and says its status.
        let vectors = HttpEmbedder::new(&config(&base, "huge-503"))
            .unwrap()
            .embed_documents(&["x"])
            .unwrap();
        assert_eq!(vectors, [vector_for("x")]);
        assert_eq!(hits.lock().unwrap()["huge-503"], 2, "retried once");
    }

    #[test]
    fn vectors_are_normalized_by_default() {
        let (base, _) = server();
        let mut config = config(&base, "ok");
        config.normalize = true;
        let vector = HttpEmbedder::new(&config)
            .unwrap()
            .embed_query("abc")
            .unwrap();
        let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6);
    }

    #[test]
    fn settings_are_checked() {
        let mut config = HttpConfig::new("ftp://x", "m");
        config.timeout = 0.0;
        let keys: Vec<&str> = config.problems().iter().map(|(key, _)| *key).collect();
        assert_eq!(keys, vec!["base_url", "timeout"]);
    }
}
