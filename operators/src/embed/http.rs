//! The `http` provider: an OpenAI-compatible `POST {base_url}/embeddings` endpoint.
//!
//! Texts go in batches of `batch_size`, up to `concurrency` requests at once (for every
//! provider in the process that calls the same endpoint with the same key: the smallest of
//! their `concurrency`), each with a `timeout`. 429, 5xx,
//! timeouts and broken connections are retried with exponential backoff and full jitter (a
//! `Retry-After`, in seconds or as an HTTP date, wins); once a request spent its retries on
//! server failures, later ones are tried once until one succeeds. A refused key (401, 403, 407),
//! an endpoint not found (404), a redirect or a compressed reply fail every text at once; other 4xx and malformed or
//! wrong-sized replies fail their texts at once, with a message that says which. The API key is read from the environment
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
    EmbedError, Embedder, Embeddings, GaveUp, Placement, Upstream, default_cache_entries,
    default_true, l2_normalize,
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
    /// Requests in flight at once to the endpoint, for every step that calls it with the same
    /// key (all their workers, a `chunk.semantic` embedding too): the smallest among them.
    #[serde(default = "default_concurrency")]
    #[schemars(range(min = 1, max = 256))]
    pub concurrency: usize,
    /// Seconds one request may take before it is abandoned (and retried); at most 3,600.
    #[serde(default = "default_timeout")]
    #[schemars(extend("exclusiveMinimum" = 0.0), range(max = MAX_TIMEOUT_SECONDS))]
    pub timeout: f64,
    /// Retries of one request after a 429, a 5xx, a timeout or a broken connection (at most
    /// 100; a query retries at most once).
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
    /// Send `dimensions` with every request, asking the model for vectors that long (OpenAI's
    /// `text-embedding-3-*` and the servers that follow its API shorten their vectors); needs
    /// `dimensions`. Off, the length is only checked: a server that refuses the field still works.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub send_dimensions: bool,
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
/// How long a request in flight when a stop comes may still take to answer: a reply within it
/// is kept (the provider did, and may charge for, the work); a slower one is abandoned.
const STOP_GRACE: Duration = Duration::from_secs(5);

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
            send_dimensions: false,
            query_prefix: String::new(),
            document_prefix: String::new(),
            normalize: true,
            cache_entries: default_cache_entries(),
        }
    }

    /// Problems with the settings that the schema cannot express.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if let Some(problem) = base_url_problem(&self.base_url) {
            problems.push(("base_url", problem));
        }
        if self.model.trim().is_empty() {
            problems.push((
                "model",
                "is empty: name the model the server should embed with".to_owned(),
            ));
        }
        if self.send_dimensions && self.dimensions.is_none() {
            problems.push((
                "send_dimensions",
                "needs `dimensions`: set it to the vector length to ask the model for".to_owned(),
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

    /// What may keep this provider from answering as meant: the API key missing from the
    /// environment, empty or unsendable, and settings that are valid but surely not meant (a
    /// `base_url` ending in `/embeddings`, credentials in `base_url` beside `api_key_env`). Only
    /// what embeds needs them, so they warn; querying BM25 or inspecting a run never does.
    pub fn environment_warnings(&self) -> Vec<(&'static str, String)> {
        let mut warnings = self.settings_warnings();
        let Some(var) = &self.api_key_env else {
            return warnings;
        };
        match std::env::var_os(var) {
            None => warnings.push((
                "api_key_env",
                format!("environment variable `{var}` is not set"),
            )),
            Some(value) if value.is_empty() => warnings.push(("api_key_env", empty_key(var))),
            Some(value) => {
                if let Some(why) = value.to_str().map_or(Some(UNSENDABLE_KEY), key_problem) {
                    warnings.push(("api_key_env", unsendable_key(var, why)));
                }
            }
        }
        warnings
    }

    /// Settings that are valid but surely not what was meant.
    fn settings_warnings(&self) -> Vec<(&'static str, String)> {
        let mut warnings = Vec::new();
        let trimmed = self.base_url.trim_end_matches('/');
        if let Some(root) = trimmed
            .strip_suffix("/embeddings")
            .filter(|_| base_url_problem(&self.base_url).is_none())
        {
            warnings.push((
                "base_url",
                format!(
                    "`{}` ends in `/embeddings`, but requests go to {{base_url}}/embeddings (here {}/embeddings): write `base_url: {}`",
                    shown_url(&self.base_url),
                    shown_url(trimmed),
                    shown_url(root)
                ),
            ));
        }
        if self.api_key_env.is_some() && has_userinfo(&self.base_url) {
            warnings.push((
                "base_url",
                format!(
                    "`{}` holds credentials (`user:password@`) and `api_key_env` is set: the key is sent as `Authorization: Bearer …` and the credentials in `base_url` are not sent; remove them from `base_url`, or remove `api_key_env`",
                    shown_url(&self.base_url)
                ),
            ));
        }
        warnings
    }

    /// The address requests go to: `{base_url}/embeddings`, its scheme in lower case.
    fn endpoint_url(&self) -> String {
        let url = self.base_url.trim_end_matches('/');
        match url.split_once("://") {
            Some((scheme, rest)) => format!("{}://{rest}/embeddings", scheme.to_ascii_lowercase()),
            None => format!("{url}/embeddings"),
        }
    }
}

/// `url` as messages show it: a password in its userinfo (`http://user:password@host/…`)
/// replaced by `***`, and a userinfo without one (a token, perhaps) too. Every message that
/// names the endpoint shows it this way.
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let hidden = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => "***".to_owned(),
            };
            format!("{scheme}://{hidden}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// Whether `url` holds userinfo (`user:password@`) before its host.
fn has_userinfo(url: &str) -> bool {
    url.split_once("://").is_some_and(|(_, rest)| {
        rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())].contains('@')
    })
}

/// What is wrong with `url` as a `base_url`, if anything: not an http:// or https:// URL (the
/// scheme in any case), a space or control character, no host, a port out of range, a query
/// string or fragment (requests append `/embeddings` to the path), https in a build without it.
fn base_url_problem(url: &str) -> Option<String> {
    base_url_problem_of(url).map(|problem| problem.replace(url, &shown_url(url)))
}

/// [`base_url_problem`], the URL as it is in the message.
fn base_url_problem_of(url: &str) -> Option<String> {
    let scheme = url
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    let secure = match scheme.as_deref() {
        Some("http") => false,
        Some("https") => true,
        _ => return Some(format!("`{url}` is not an http:// or https:// URL")),
    };
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        let place = if url.ends_with(c) { " at its end" } else { "" };
        return Some(format!(
            "`{url}` holds {}{place}: remove it",
            if c == ' ' {
                "a space"
            } else {
                "a control or whitespace character"
            }
        ));
    }
    if url.contains(['?', '#']) {
        return Some(format!(
            "`{url}` has a query string or fragment, but requests go to {{base_url}}/embeddings: \
             give `base_url` without `?…` or `#…`"
        ));
    }
    let parsed = match url.parse::<ureq::http::Uri>() {
        Ok(parsed) => parsed,
        Err(err) => return Some(format!("`{url}` is not a valid URL: {err}")),
    };
    let authority = parsed
        .authority()
        .map_or("", |authority| authority.as_str());
    let host_and_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, after)| after);
    let port = match host_and_port.rsplit_once(']') {
        Some((_, after)) => after.strip_prefix(':'),
        None => host_and_port.split_once(':').map(|(_, port)| port),
    };
    if parsed.host().is_none_or(str::is_empty) {
        return Some(format!(
            "`{url}` names no host (e.g. http://127.0.0.1:8080/v1)"
        ));
    }
    if let Some(port) = port.filter(|port| !port.is_empty())
        && port.parse::<u16>().is_err()
    {
        return Some(format!(
            "`{url}` has port {port}, which is not a port (1 to 65535)"
        ));
    }
    if secure && !cfg!(feature = "https") {
        return Some("https needs the engine built with the `operators/https` feature".to_owned());
    }
    None
}

/// Why a key cannot be sent in a header, when it holds something other than visible ASCII.
const UNSENDABLE_KEY: &str = "it holds characters other than visible ASCII";

/// Why `key` cannot be sent as `Authorization: Bearer {key}`, if it cannot: a line break (the
/// `\r` a CRLF `.env` file leaves), a space or another character that is not visible ASCII.
fn key_problem(key: &str) -> Option<&'static str> {
    if key.contains(['\r', '\n']) {
        Some("it holds a line break (a CRLF `.env` file leaves a `\\r` at the end)")
    } else if key.chars().any(|c| !c.is_ascii_graphic()) {
        Some("it holds a space, a control character or a character that is not ASCII")
    } else {
        None
    }
}

/// The message for a key variable `var` set but empty.
fn empty_key(var: &str) -> String {
    format!(
        "environment variable `{var}` (`api_key_env`) is set but empty, so no key would be sent: set it to the key (`export {var}=…`), or remove `api_key_env` if the endpoint needs none"
    )
}

/// The message for a key variable `var` whose value cannot be sent, and `why`; never the key.
fn unsendable_key(var: &str, why: &str) -> String {
    format!(
        "environment variable `{var}` (`api_key_env`) holds a value that cannot be sent in an HTTP header: {why}; set it to the key alone"
    )
}

/// The most bytes read of a reply for `texts` texts: 1 MiB plus 256 KiB a text (a vector of
/// 8,192 numbers as JSON, with room to spare), at most 256 MiB. Requests in flight are at most
/// `concurrency` for the whole step, so that bounds the memory replies take.
fn reply_limit(texts: usize) -> u64 {
    (1u64 << 20)
        .saturating_add((texts as u64).saturating_mul(256 << 10))
        .min(256 << 20)
}

fn too_large(url: &str, limit: u64, texts: usize) -> String {
    format!(
        "{url}: the reply is larger than {} MiB, far more than {texts} embeddings need",
        limit >> 20
    )
}

/// What the providers that call one endpoint with one key share in this process (the steps
/// and semantic chunkers that name the same `base_url` and `api_key_env`, whatever their other
/// settings): the limit on requests in flight, and whether the endpoint is down.
struct Endpoint {
    /// Requests in flight, and the most allowed at once: the smallest `concurrency` of the
    /// providers sharing it.
    flight: Mutex<Flight>,
    freed: std::sync::Condvar,
    /// A request spent all its retries on server failures (5xx, timeouts, broken
    /// connections) and nothing succeeded since: later requests are tried once.
    down: AtomicBool,
    /// Requests in a row that spent all their retries on 429s (nothing succeeded since); from
    /// [`QUOTA_CALLS`] on (at once for an `insufficient_quota` answer) the quota or rate limit
    /// is taken for exhausted, and later requests are tried once until one succeeds.
    throttled: AtomicUsize,
}

/// Requests in a row that spend all their retries on 429s before the endpoint's quota or rate
/// limit is taken for exhausted ([`Endpoint::throttled`]).
const QUOTA_CALLS: usize = 3;

/// A hold on the state shared by the providers that call the endpoint of an [`HttpConfig`]
/// with its key, taken when a step is set up, before its provider is built (on its first
/// chunks): every step's `concurrency` counts from the first request any of them sends.
pub struct EndpointHold {
    _endpoint: Arc<Endpoint>,
}

/// Takes a hold on the endpoint `config` calls ([`EndpointHold`]).
pub fn hold_endpoint(config: &HttpConfig) -> EndpointHold {
    EndpointHold {
        _endpoint: Endpoint::shared(config),
    }
}

/// Requests in flight to an endpoint, and its limit.
struct Flight {
    in_flight: usize,
    limit: usize,
}

impl Endpoint {
    /// The state shared by every provider in this process that calls the endpoint of
    /// `config` with its key; its limit is lowered to `config.concurrency` when that is
    /// smaller.
    fn shared(config: &HttpConfig) -> Arc<Endpoint> {
        type Known = Vec<((String, Option<String>), std::sync::Weak<Endpoint>)>;
        static KNOWN: Mutex<Known> = Mutex::new(Vec::new());
        let mut known = KNOWN.lock().unwrap_or_else(|poison| poison.into_inner());
        known.retain(|(_, endpoint)| endpoint.strong_count() > 0);
        let key = (config.endpoint_url(), config.api_key_env.clone());
        let limit = config.concurrency.max(1);
        if let Some(endpoint) = known
            .iter()
            .find(|(calls, _)| *calls == key)
            .and_then(|(_, endpoint)| endpoint.upgrade())
        {
            let mut flight = endpoint.flight();
            flight.limit = flight.limit.min(limit);
            drop(flight);
            return endpoint;
        }
        let endpoint = Arc::new(Endpoint {
            flight: Mutex::new(Flight {
                in_flight: 0,
                limit,
            }),
            freed: std::sync::Condvar::new(),
            down: AtomicBool::new(false),
            throttled: AtomicUsize::new(0),
        });
        known.push((key, Arc::downgrade(&endpoint)));
        endpoint
    }

    fn flight(&self) -> std::sync::MutexGuard<'_, Flight> {
        self.flight
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Leave to send one request, once fewer than the limit are in flight; `None` when
    /// `stop` is set first.
    fn admit(self: &Arc<Self>, stop: &AtomicBool) -> Option<Permit> {
        let mut flight = self.flight();
        loop {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            if flight.in_flight < flight.limit {
                flight.in_flight += 1;
                return Some(Permit(Arc::clone(self)));
            }
            flight = self
                .freed
                .wait_timeout(flight, STOP_POLL)
                .unwrap_or_else(|poison| poison.into_inner())
                .0;
        }
    }
}

/// One request in flight; dropping it lets another start.
struct Permit(Arc<Endpoint>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.flight().in_flight -= 1;
        self.0.freed.notify_one();
    }
}

/// An OpenAI-compatible embeddings endpoint.
pub struct HttpEmbedder {
    /// What one request needs, shared with the thread it runs on.
    client: Arc<Client>,
    /// The limit on requests in flight and the endpoint's health, shared with every provider
    /// that calls the same endpoint with the same key.
    endpoint: Arc<Endpoint>,
    batch_size: usize,
    concurrency: usize,
    retries: u32,
    backoff: Duration,
    query_prefix: String,
    document_prefix: String,
    normalize: bool,
    fingerprint: String,
    /// See [`legacy_fingerprint`].
    legacy_fingerprint: Option<String>,
    /// Why no request can succeed in this run ([`Attempt::Misconfigured`]), once a reply showed
    /// it: every later call fails at once with it, sending nothing.
    misconfigured: Mutex<Option<String>>,
}

/// The endpoint, and how to ask it and read its replies.
struct Client {
    agent: ureq::Agent,
    /// Where requests go: `{base_url}/embeddings`, userinfo and all.
    address: String,
    /// [`Client::address`] as messages show it ([`shown_url`]): every message names this one.
    url: String,
    model: String,
    api_key: Option<String>,
    /// `timeout`, in seconds, to say in an error.
    timeout: f64,
    /// The vector length `dimensions` sets, if it does.
    dimensions: Option<usize>,
    /// Whether requests ask for that length (`send_dimensions`).
    send_dimensions: bool,
    /// The variable `api_key_env` names, for messages.
    api_key_env: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<usize>,
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
    /// Perhaps passing: a 429 (`server_fault` false), a 5xx, a timeout or a broken connection.
    Retry {
        why: String,
        wait: Option<Duration>,
        server_fault: bool,
        /// No complete reply came within `timeout`.
        timed_out: bool,
    },
    /// About these texts: a smaller request (a document alone) may succeed.
    Refused(String),
    /// About the settings or the endpoint (a key refused, a redirect, a reply the engine cannot
    /// read): no request can succeed, so every text fails at once.
    Unusable(String),
    /// Settings the provider's replies contradict (vectors of another length than
    /// `dimensions`): no request can succeed in this run, so none is sent again.
    Misconfigured(String),
    /// A 429 saying the account's quota is spent (`insufficient_quota`): no retry can pass.
    QuotaExhausted(String),
}

/// How one call asks the provider.
struct Asking<'a> {
    /// Checked before every request and while one is in flight.
    stop: &'a AtomicBool,
    /// The most retries of one request (before the provider-down rule).
    retries: u32,
    /// Told, once, that the call waits: a reply slower than [`PATIENCE`], or a retry (queries).
    note: Option<&'a (dyn Fn(&str) + Sync)>,
    /// Whether `note` was told.
    noted: AtomicBool,
}

impl<'a> Asking<'a> {
    fn new(stop: &'a AtomicBool, retries: u32) -> Self {
        Asking {
            stop,
            retries,
            note: None,
            noted: AtomicBool::new(false),
        }
    }

    /// Tells `note` (once) that the call waits, and why.
    fn tell(&self, what: impl FnOnce() -> String) {
        if let Some(note) = self.note
            && !self.noted.swap(true, Ordering::Relaxed)
        {
            note(&what());
        }
    }
}

/// What to do about a quota or rate limit the provider says is exhausted.
const QUOTA_ADVICE: &str = "check the account's quota or rate limit with the provider, or lower `concurrency` or raise `retries` (and `backoff`) in the provider's settings";

/// How long a query waits for a reply before it says that it waits.
const PATIENCE: Duration = Duration::from_secs(2);

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
            Some(var) => {
                let key = std::env::var_os(var).ok_or_else(|| {
                    EmbedError::new(format!("environment variable `{var}` is not set"))
                })?;
                if key.is_empty() {
                    return Err(EmbedError::provider_unavailable(empty_key(var)));
                }
                let key = key.into_string().map_err(|_| {
                    EmbedError::provider_unavailable(unsendable_key(var, UNSENDABLE_KEY))
                })?;
                if let Some(why) = key_problem(&key) {
                    return Err(EmbedError::provider_unavailable(unsendable_key(var, why)));
                }
                Some(key)
            }
            None => None,
        };
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                // A redirect is reported, not followed: ureq would turn the POST into a GET.
                .max_redirects(0)
                .timeout_global(Some(seconds(config.timeout, "timeout")?))
                .user_agent("engine-embed")
                .build(),
        );
        let url = config.endpoint_url();
        Ok(HttpEmbedder {
            fingerprint: fingerprint(config, &url),
            legacy_fingerprint: legacy_fingerprint(config, &url),
            client: Arc::new(Client {
                agent,
                url: shown_url(&url),
                address: url,
                model: config.model.clone(),
                api_key,
                timeout: config.timeout,
                dimensions: config.dimensions,
                send_dimensions: config.send_dimensions,
                api_key_env: config.api_key_env.clone(),
            }),
            endpoint: Endpoint::shared(config),
            batch_size: config.batch_size.max(1),
            concurrency: config.concurrency.max(1),
            retries: config.retries,
            backoff: seconds(config.backoff, "backoff")?,
            query_prefix: config.query_prefix.clone(),
            document_prefix: config.document_prefix.clone(),
            normalize: config.normalize,
            misconfigured: Mutex::new(None),
        })
    }

    /// One request, retried up to `asking.retries` times (once only while the provider is
    /// down: see [`Endpoint::down`]), unless `stop` is set: then it stops with
    /// [`EmbedError::stopped`] rather than wait for the reply or to try again. The vectors and
    /// the number of retries.
    fn request(
        &self,
        texts: &[String],
        asking: &Asking,
    ) -> Result<(Vec<Vec<f32>>, usize), EmbedError> {
        let stop = asking.stop;
        if let Some(why) = self
            .misconfigured
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
        {
            return Err(EmbedError::provider_unavailable(format!(
                "{why} (no request sent: an earlier reply in this run showed it)"
            )));
        }
        let was_down = self.endpoint.down.load(Ordering::SeqCst);
        let was_throttled = self.endpoint.throttled.load(Ordering::SeqCst) >= QUOTA_CALLS;
        let retries = if was_down || was_throttled {
            0
        } else {
            asking.retries
        };
        let mut attempt = 0u32;
        loop {
            let Some(permit) = self.endpoint.admit(stop) else {
                return Err(EmbedError::stopped());
            };
            let Some(result) = self.attempt_until(texts, permit, asking) else {
                return Err(EmbedError::stopped());
            };
            match result {
                Ok(vectors) => {
                    self.endpoint.down.store(false, Ordering::SeqCst);
                    self.endpoint.throttled.store(0, Ordering::SeqCst);
                    return Ok((vectors, attempt as usize));
                }
                Err(Attempt::Refused(message)) => {
                    return Err(EmbedError::new(self.client.redact(&message))
                        .from_upstream(Upstream::Failed));
                }
                Err(Attempt::Unusable(message)) => {
                    return Err(
                        EmbedError::provider_unavailable(self.client.redact(&message))
                            .from_upstream(Upstream::Failed),
                    );
                }
                Err(Attempt::QuotaExhausted(message)) => {
                    self.endpoint.throttled.store(QUOTA_CALLS, Ordering::SeqCst);
                    return Err(EmbedError::provider_unavailable(format!(
                        "{} ({})",
                        self.client.redact(&message),
                        QUOTA_ADVICE
                    )));
                }
                Err(Attempt::Misconfigured(message)) => {
                    let message = self.client.redact(&message);
                    *self
                        .misconfigured
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner()) = Some(message.clone());
                    return Err(EmbedError::provider_unavailable(message));
                }
                // A failure once a stop came (a reply cut off by it) is no fault of the server.
                Err(Attempt::Retry { .. }) if stop.load(Ordering::Relaxed) => {
                    return Err(EmbedError::stopped());
                }
                // A query (it has a `note`) is not kept waiting longer than a reply may take.
                Err(Attempt::Retry {
                    why,
                    wait: Some(wait),
                    ..
                }) if asking.note.is_some() && wait.as_secs_f64() > self.client.timeout => {
                    let message = format!(
                        "{why}; its Retry-After asks to wait {}, longer than the provider's `timeout` ({} s): a query does not wait that long",
                        waited_for(wait),
                        self.client.timeout
                    );
                    return Err(
                        EmbedError::provider_unavailable(self.client.redact(&message))
                            .from_upstream(Upstream::Busy(Some(wait))),
                    );
                }
                Err(Attempt::Retry {
                    why,
                    wait,
                    server_fault,
                    timed_out,
                }) if attempt >= retries => {
                    let upstream = match (timed_out, server_fault) {
                        (true, _) => Upstream::TimedOut,
                        (false, false) => Upstream::Busy(wait),
                        (false, true) => Upstream::Failed,
                    };
                    let err = self.gave_up(attempt + 1, &why, server_fault, was_down, asking);
                    return Err(err.from_upstream(upstream));
                }
                Err(Attempt::Retry { why, wait, .. }) => {
                    let backoff = self.backoff.saturating_mul(1 << attempt.min(16));
                    let jittered = backoff.mul_f64(jitter()).min(MAX_WAIT);
                    let wait = wait.map(|w| w.min(MAX_WAIT)).unwrap_or(jittered);
                    asking.tell(|| {
                        format!(
                            "waiting for the embedding provider: {}; trying again in {:.1} s",
                            self.client.redact(&why),
                            wait.as_secs_f64()
                        )
                    });
                    if !sleep_unless_stopped(wait, stop) {
                        return Err(EmbedError::stopped());
                    }
                    attempt += 1;
                }
            }
        }
    }

    /// The error of a request that failed `attempts` times, the last because of `why`. A
    /// server fault marks the provider down. It fails every text of the call at once when the
    /// provider was down already (a request that would have retried was tried once) or when
    /// the server kept refusing work (429); otherwise the caller may try the texts of other
    /// documents alone ([`EmbedError::server_fault`]).
    fn gave_up(
        &self,
        attempts: u32,
        why: &str,
        server_fault: bool,
        was_down: bool,
        asking: &Asking,
    ) -> EmbedError {
        // `why` names the endpoint.
        let gave_up = GaveUp {
            attempts,
            last: self.client.redact(why),
        };
        let message = gave_up.to_string();
        if !server_fault {
            // Spent every retry on 429s (or tried once, the quota taken for exhausted).
            let in_a_row = self.endpoint.throttled.fetch_add(1, Ordering::SeqCst) + 1;
            if in_a_row >= QUOTA_CALLS {
                return EmbedError::provider_unavailable(format!(
                    "{message} (the provider answered 429 through all the retries of {QUOTA_CALLS} or more requests in a row, so its quota or rate limit is taken for exhausted: later requests are tried once, without retries, until one passes; {QUOTA_ADVICE})"
                ));
            }
            return EmbedError::provider_unavailable(message);
        }
        self.endpoint.down.store(true, Ordering::SeqCst);
        if was_down && asking.retries > 0 {
            return EmbedError::provider_unavailable(format!(
                "{message} (without retries: the provider failed through all its retries earlier in this run)"
            ));
        }
        EmbedError::server_fault(gave_up)
    }

    /// One attempt, holding `permit` until it ends; `None` when `stop` came first and the reply
    /// did not follow within [`STOP_GRACE`]. The attempt runs on a thread of its own, so that a
    /// stop is seen while a slow server takes its time (up to `timeout`): past the grace the
    /// thread is left to end by itself, and nothing waits for it.
    fn attempt_until(
        &self,
        texts: &[String],
        permit: Permit,
        asking: &Asking,
    ) -> Option<Result<Vec<Vec<f32>>, Attempt>> {
        let stop = asking.stop;
        if std::ptr::eq(stop, &super::NEVER) && asking.note.is_none() {
            let result = self.client.attempt(texts);
            drop(permit);
            return Some(result);
        }
        let client = Arc::clone(&self.client);
        let owned = texts.to_vec();
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("embed-http".into())
            .spawn(move || {
                let result = client.attempt(&owned);
                drop(permit);
                let _ = reply.send(result);
            });
        if spawned.is_err() {
            return Some(self.client.attempt(texts));
        }
        let started = Instant::now();
        let mut stopped_at = None;
        loop {
            match answer.recv_timeout(STOP_POLL) {
                Ok(result) => return Some(result),
                Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Relaxed) => {
                    let stopped: &Instant = stopped_at.get_or_insert_with(Instant::now);
                    if stopped.elapsed() >= STOP_GRACE {
                        return None;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if started.elapsed() >= PATIENCE {
                        asking.tell(|| {
                            format!(
                                "waiting for the embedding provider at {} (up to the provider's `timeout`, {} s)",
                                self.client.url, self.client.timeout
                            )
                        });
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Some(Err(Attempt::Retry {
                        why: format!("{}: the request ended without a result", self.client.url),
                        wait: None,
                        server_fault: true,
                        timed_out: false,
                    }));
                }
            }
        }
    }
}

/// The provider's fingerprint: the model, and a hash of what else changes its vectors: the
/// endpoint (`base_url`, which may serve another model under the same name), the document
/// prefix, `normalize`, `dimensions` and `send_dimensions`. The query prefix, which changes no document's vector,
/// is hashed as empty (as engines before 2026-12 hashed a pipeline without one).
fn fingerprint(config: &HttpConfig, url: &str) -> String {
    fingerprint_with(config, url, "")
}

/// The fingerprint engines before 2026-12 gave these settings, their query prefix hashed in,
/// when it differs from [`fingerprint`].
fn legacy_fingerprint(config: &HttpConfig, url: &str) -> Option<String> {
    (!config.query_prefix.is_empty()).then(|| fingerprint_with(config, url, &config.query_prefix))
}

fn fingerprint_with(config: &HttpConfig, url: &str, query_prefix: &str) -> String {
    // Appended only when set, so that the settings of engines before it keep their hash.
    let sent = if config.send_dimensions { "\0sent" } else { "" };
    format!(
        "http:{}:{}",
        config.model,
        &blake3::hash(
            format!(
                "{url}\0{query_prefix}\0{}\0{}\0{:?}{sent}",
                config.document_prefix, config.normalize, config.dimensions
            )
            .as_bytes()
        )
        .to_hex()[..16]
    )
}

/// The settings [`fingerprint`] hashes after the model's name, for messages.
pub const FINGERPRINTED: &str =
    "`base_url` (as written), `document_prefix`, `normalize`, `dimensions` and `send_dimensions`";

impl Client {
    /// A request's error, a timeout with the setting that set it.
    fn describe(&self, err: &ureq::Error) -> String {
        match err {
            ureq::Error::Timeout(_) => format!(
                "no complete reply within {} s (the provider's `timeout` setting)",
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

    /// Removes the key from text that may echo it (server messages), and the userinfo of the
    /// address ([`shown_url`]).
    fn redact(&self, text: &str) -> String {
        let text = if self.address == self.url {
            text.to_owned()
        } else {
            text.replace(&self.address, &self.url)
        };
        match &self.api_key {
            Some(key) if !key.is_empty() => redact(&text, key),
            _ => text,
        }
    }

    /// Why a request could not be sent or answered: settings no request can succeed with
    /// (an address or header ureq refuses) are [`Attempt::Unusable`]; anything else (a refused
    /// or broken connection, a timeout) may pass.
    fn unsent(&self, err: &ureq::Error) -> Attempt {
        let why = format!("{}: {}", self.url, self.describe(err));
        match err {
            ureq::Error::Http(_)
            | ureq::Error::BadUri(_)
            | ureq::Error::InvalidProxyUrl
            | ureq::Error::RequireHttpsOnly(_) => Attempt::Unusable(why),
            _ => Attempt::Retry {
                why,
                wait: None,
                server_fault: true,
                timed_out: matches!(err, ureq::Error::Timeout(_)),
            },
        }
    }

    /// The failure of a redirect reply: the endpoint moved, and `base_url` should say where.
    fn redirected(&self, status: u16, location: Option<&str>) -> Attempt {
        let advice = match location {
            Some(location) => {
                let base = location
                    .split(['?', '#'])
                    .next()
                    .unwrap_or(location)
                    .trim_end_matches('/');
                match base.strip_suffix("/embeddings") {
                    Some(base) => format!("to `{location}`: set `base_url: {base}`"),
                    None => format!(
                        "to `{location}`: set `base_url` to the address it names (requests go to {{base_url}}/embeddings)"
                    ),
                }
            }
            None => "without saying where (no `Location`): check `base_url`".to_owned(),
        };
        Attempt::Unusable(format!(
            "{} redirected ({status}) {advice}; the engine does not follow redirects",
            self.url
        ))
    }

    /// The failure of a refusal with `status`: a key or proxy refused (401, 403, 407) or an
    /// endpoint not found (404) fails every text, as no request can pass; other 4xx are about
    /// the texts.
    fn refused(&self, status: u16, text: &str) -> Attempt {
        let answered = format!("{} answered {status}: {}", self.url, self.excerpt(text));
        let key = match &self.api_key_env {
            Some(var) => format!("the key in `{var}` (`api_key_env`)"),
            None => {
                "whether it needs a key: set `api_key_env` to the variable holding it".to_owned()
            }
        };
        match status {
            401 | 403 => Attempt::Unusable(format!("{answered} (check {key})")),
            407 => Attempt::Unusable(format!(
                "{answered} (a proxy between the engine and the endpoint wants credentials)"
            )),
            // No such endpoint (or model, for some servers): no request can pass either.
            404 => Attempt::Unusable(format!(
                "{answered} (check `base_url` and `model`: requests go to {{base_url}}/embeddings)"
            )),
            _ => Attempt::Refused(answered),
        }
    }

    fn attempt(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Attempt> {
        // Replies are read as they are: ask for them uncompressed.
        let mut request = self
            .agent
            .post(&self.address)
            .header("Accept-Encoding", "identity");
        if let Some(key) = &self.api_key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let body = Request {
            model: &self.model,
            input: texts,
            encoding_format: "float",
            dimensions: self.dimensions.filter(|_| self.send_dimensions),
        };
        let mut response = match request.send_json(&body) {
            Ok(response) => response,
            Err(err) => return Err(self.unsent(&err)),
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        if (300..400).contains(&status) {
            return Err(self.redirected(status, header("location").as_deref()));
        }
        let retry_after = header("retry-after").as_deref().and_then(retry_after);
        let encoding = header("content-encoding")
            .filter(|encoding| !encoding.trim().eq_ignore_ascii_case("identity"));
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
                    server_fault: status != 429,
                    timed_out: false,
                }
            } else if (200..300).contains(&status) {
                Attempt::Refused(too_large(&self.url, limit, texts.len()))
            } else {
                Attempt::Refused(answered())
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
            // A compressed body is not text: say so rather than that it is not UTF-8.
            Err(_) if (200..300).contains(&status) && encoding.is_some() => {
                return Err(self.compressed(encoding.as_deref().unwrap_or_default()));
            }
            Err(err) => {
                return Err(Attempt::Retry {
                    why: format!("{}: reading the reply: {}", self.url, self.describe(&err)),
                    wait: None,
                    server_fault: true,
                    timed_out: matches!(err, ureq::Error::Timeout(_)),
                });
            }
        };
        if status == 429 && text.contains("insufficient_quota") {
            return Err(Attempt::QuotaExhausted(format!(
                "{} answered 429 `insufficient_quota`, the account's quota is spent: {}",
                self.url,
                self.excerpt(&text)
            )));
        }
        if retryable {
            return Err(Attempt::Retry {
                why: format!("{} answered {status}: {}", self.url, self.excerpt(&text)),
                wait: retry_after,
                server_fault: status != 429,
                timed_out: false,
            });
        }
        if !(200..300).contains(&status) {
            return Err(self.refused(status, &text));
        }
        if let Some(encoding) = encoding {
            return Err(self.compressed(&encoding));
        }
        self.parse(&text, texts.len())
    }

    /// The failure of a reply in a `Content-Encoding` the engine does not read.
    fn compressed(&self, encoding: &str) -> Attempt {
        Attempt::Unusable(format!(
            "{} answered in `Content-Encoding: {encoding}`, which the engine cannot read, though it asked for `identity`: configure the server (or the proxy before it) not to compress replies",
            self.url
        ))
    }

    /// The vectors of a successful reply to `expected` texts. A reply no request could do
    /// better with (not JSON of embeddings, another number of them, every one all zeros) fails
    /// its call at once ([`Attempt::Unusable`]): trying its documents alone would send (and
    /// bill) every text again for the same answer. Vectors of another length than `dimensions`
    /// contradict the settings ([`Attempt::Misconfigured`]); one bad vector among good ones
    /// is about its text ([`Attempt::Refused`]).
    fn parse(&self, text: &str, expected: usize) -> Result<Vec<Vec<f32>>, Attempt> {
        let reply: Reply = serde_json::from_str(text).map_err(|err| {
            Attempt::Unusable(format!(
                "{}: malformed reply ({err}): {}",
                self.url,
                self.excerpt(text)
            ))
        })?;
        if reply.data.len() != expected {
            return Err(Attempt::Unusable(format!(
                "{}: {} embeddings for {expected} texts",
                self.url,
                reply.data.len()
            )));
        }
        let all_zero = reply
            .data
            .iter()
            .all(|item| item.embedding.iter().all(|&x| x == 0.0));
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; expected];
        for (position, item) in reply.data.into_iter().enumerate() {
            let index = item.index.unwrap_or(position);
            let slot = vectors.get_mut(index).ok_or_else(|| {
                Attempt::Unusable(format!(
                    "{}: embedding index {index} out of range",
                    self.url
                ))
            })?;
            if slot.is_some() {
                return Err(Attempt::Unusable(format!(
                    "{}: embedding index {index} repeated",
                    self.url
                )));
            }
            if item.embedding.is_empty() || !super::all_finite(&item.embedding) {
                return Err(Attempt::Refused(format!(
                    "{}: embedding {index} is empty or not finite",
                    self.url
                )));
            }
            // No text embeds to nothing: a provider fault (a placeholder, a broken model), and
            // a vector no query could ever find.
            if item.embedding.iter().all(|&x| x == 0.0) {
                let message = format!(
                    "{}: embedding {index} is all zeros, which no text embeds to: is the model or its deployment broken?",
                    self.url
                );
                return Err(if all_zero {
                    Attempt::Unusable(message)
                } else {
                    Attempt::Refused(message)
                });
            }
            *slot = Some(item.embedding);
        }
        let vectors: Vec<Vec<f32>> = vectors.into_iter().flatten().collect();
        // Across replies, the vectors' size is checked by the `embed` operator against the
        // size it holds for the model (see `Embed`), which outlives this process.
        match self.dimensions {
            Some(wanted) => match vectors.iter().find(|vector| vector.len() != wanted) {
                Some(wrong) if self.send_dimensions => Err(Attempt::Misconfigured(format!(
                    "{}: an embedding has {} dimensions, where the request asked for {wanted} (`dimensions`, `send_dimensions`): this model cannot shorten its vectors, so set `dimensions: {}` and `send_dimensions: false`, or pick a `model` that can; no more requests are sent in this run",
                    self.url,
                    wrong.len(),
                    wrong.len()
                ))),
                Some(wrong) => Err(Attempt::Misconfigured(format!(
                    "{}: an embedding has {} dimensions, expected {wanted} (`dimensions`): the engine checks `dimensions` but does not ask the provider for a length, so set `dimensions: {}` (or remove it), set `send_dimensions: true` if the model can shorten its vectors (OpenAI's `text-embedding-3-*`), or pick a `model` whose vectors have {wanted}; no more requests are sent in this run",
                    self.url,
                    wrong.len(),
                    wrong.len()
                ))),
                None => Ok(vectors),
            },
            None => {
                let first = vectors[0].len();
                match vectors.iter().find(|vector| vector.len() != first) {
                    Some(wrong) => Err(Attempt::Refused(format!(
                        "{}: an embedding has {} dimensions, expected {first}, the size of the first in the same reply: set `dimensions` in the provider's settings to say which size is right",
                        self.url,
                        wrong.len()
                    ))),
                    None => Ok(vectors),
                }
            }
        }
    }
}

impl HttpEmbedder {
    /// The vector of the query `text`, asked as `asking` says.
    fn query(&self, text: &str, asking: Asking) -> Result<Vec<f32>, EmbedError> {
        self.embed_prefixed(&[text], &self.query_prefix, &asking)?
            .vectors
            .pop()
            .ok_or_else(|| EmbedError::new("the endpoint returned no vector"))
    }

    /// Embeds texts with `prefix` in batches, at most `concurrency` requests at a time (for
    /// every provider built from the same settings), until `asking.stop` is set: no request
    /// starts after that (see [`Embedder::embed_documents_until`]).
    fn embed_prefixed(
        &self,
        texts: &[&str],
        prefix: &str,
        asking: &Asking,
    ) -> Result<Embeddings, EmbedError> {
        let stop = asking.stop;
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
                    .request(batches[index], asking)
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

/// A `Retry-After` wait in words: [`MAX_WAIT`] stands for any longer wait.
fn waited_for(wait: Duration) -> String {
    match wait >= MAX_WAIT {
        true => format!("{} s or more", MAX_WAIT.as_secs()),
        false => format!("{} s", wait.as_secs_f64()),
    }
}

/// The wait a `Retry-After` header asks for, at most [`MAX_WAIT`]: a number of seconds, or an
/// HTTP date (RFC 9110: IMF-fixdate, or the obsolete RFC 850 and asctime forms; a date past is
/// no wait). `None` for a value that is neither.
fn retry_after(value: &str) -> Option<Duration> {
    retry_after_at(value, std::time::SystemTime::now())
}

/// [`retry_after`] at the time `now`.
fn retry_after_at(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds >= 0.0).then(|| {
            Duration::try_from_secs_f64(seconds)
                .unwrap_or(MAX_WAIT)
                .min(MAX_WAIT)
        });
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
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

    fn legacy_fingerprint(&self) -> Option<String> {
        self.legacy_fingerprint.clone()
    }

    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(self.embed_documents_debug(texts)?.vectors)
    }

    /// A query is interactive: it retries at most once, whatever `retries` says.
    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        self.query(text, Asking::new(&super::NEVER, self.retries.min(1)))
    }

    fn embed_query_noting(
        &self,
        text: &str,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<Vec<f32>, EmbedError> {
        let asking = Asking {
            note: Some(note),
            ..Asking::new(&super::NEVER, self.retries.min(1))
        };
        self.query(text, asking)
    }

    fn embed_documents_debug(&self, texts: &[&str]) -> Result<Embeddings, EmbedError> {
        self.embed_documents_until(texts, &super::NEVER)
    }

    fn embed_documents_until(
        &self,
        texts: &[&str],
        stop: &AtomicBool,
    ) -> Result<Embeddings, EmbedError> {
        if texts.is_empty() {
            return Ok(Embeddings::default());
        }
        self.embed_prefixed(
            texts,
            &self.document_prefix,
            &Asking::new(stop, self.retries),
        )
    }

    fn embed_documents_once(
        &self,
        texts: &[&str],
        stop: &AtomicBool,
    ) -> Result<Embeddings, EmbedError> {
        if texts.is_empty() {
            return Ok(Embeddings::default());
        }
        self.embed_prefixed(texts, &self.document_prefix, &Asking::new(stop, 0))
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
    static STOP_SLOW: AtomicBool = AtomicBool::new(false);

    /// Requests of mode `count` in flight now, and the most seen at once.
    static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
    static MOST_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

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
            // A model that shortens its vectors to the `dimensions` asked for, as OpenAI's do.
            "shorten" => {
                let length = body["dimensions"].as_u64().map_or(3, |n| n as usize);
                let data: Vec<Value> = texts
                    .iter()
                    .enumerate()
                    .map(|(index, text)| {
                        let mut vector = vector_for(text);
                        vector.resize(length, 1.0);
                        json!({"index": index, "embedding": vector})
                    })
                    .collect();
                Json(json!({"data": data})).into_response()
            }
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
            "throttled" => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "0")],
                "rate limit reached",
            )
                .into_response(),
            "no-quota" => (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}})),
            )
                .into_response(),
            // Down for the first five requests and the seventh.
            "down-5" if hit <= 5 || hit == 7 => {
                (StatusCode::BAD_GATEWAY, "bad gateway").into_response()
            }
            "down-5" => good(),
            // A server that fails on one text (one too long for it, say).
            "zebra" if texts.iter().any(|text| text.contains("zebra")) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "mock error").into_response()
            }
            "zebra" => good(),
            // Counts the requests in flight, each taking 100 ms.
            "count" => {
                let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
                MOST_IN_FLIGHT.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
                good()
            }
            "forbidden" => (StatusCode::FORBIDDEN, "no").into_response(),
            "proxy-auth" => (StatusCode::PROXY_AUTHENTICATION_REQUIRED, "who?").into_response(),
            "moved" => (
                StatusCode::PERMANENT_REDIRECT,
                [("location", "https://127.0.0.1:9/new/v1/embeddings")],
                "",
            )
                .into_response(),
            "moved-get" => (
                StatusCode::MOVED_PERMANENTLY,
                [("location", "/elsewhere")],
                "",
            )
                .into_response(),
            // A compressed reply (the engine asks for none), unless asked for `identity`.
            "gzip"
                if headers
                    .get("accept-encoding")
                    .is_some_and(|v| v == "identity") =>
            {
                (
                    StatusCode::OK,
                    [("content-encoding", "gzip")],
                    vec![0x1f_u8, 0x8b, 0x08, 0x00, 0xff, 0xfe],
                )
                    .into_response()
            }
            "gzip" => (StatusCode::BAD_REQUEST, "no accept-encoding: identity").into_response(),
            // Ctrl-C while the first request runs: answered, or failed (a retry would follow).
            "stop-ok" => {
                STOP_OK.store(true, Ordering::SeqCst);
                good()
            }
            "stop-down" => {
                STOP_DOWN.store(true, Ordering::SeqCst);
                (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
            }
            // Ctrl-C while the server works: it answers a second later.
            "stop-slow" => {
                STOP_SLOW.store(true, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                good()
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

    /// The query prefix changes no document's vector: it is not in the fingerprint, which for
    /// settings without one is what engines before 2026-12 gave; with one, the fingerprint they
    /// gave (the prefix hashed in) is the legacy scope.
    #[test]
    fn the_query_prefix_is_no_part_of_the_vectors_identity() {
        let url = "http://127.0.0.1:9/v1/embeddings";
        let older = |config: &HttpConfig| {
            let hashed = format!(
                "{url}\0{}\0{}\0{}\0{:?}",
                config.query_prefix, config.document_prefix, config.normalize, config.dimensions
            );
            format!(
                "http:{}:{}",
                config.model,
                &blake3::hash(hashed.as_bytes()).to_hex()[..16]
            )
        };
        let plain = HttpConfig::new("http://127.0.0.1:9/v1", "m");
        let mut prefixed = plain.clone();
        prefixed.query_prefix = "query: ".into();
        assert_eq!(fingerprint(&plain, url), older(&plain));
        assert_eq!(legacy_fingerprint(&plain, url), None);
        assert_eq!(fingerprint(&prefixed, url), fingerprint(&plain, url));
        assert_eq!(legacy_fingerprint(&prefixed, url), Some(older(&prefixed)));
        let mut other = plain.clone();
        other.document_prefix = "passage: ".into();
        assert_ne!(fingerprint(&other, url), fingerprint(&plain, url));
        let mut sized = plain.clone();
        sized.dimensions = Some(4);
        let mut asked = sized.clone();
        asked.send_dimensions = true;
        assert_eq!(fingerprint(&sized, url), older(&sized));
        assert_ne!(fingerprint(&asked, url), fingerprint(&sized, url));
    }

    /// `send_dimensions` puts `dimensions` in every request, so a model that can shorten its
    /// vectors answers that length; without it the field is not sent and the longer vectors
    /// fail the call, naming `send_dimensions`; a model that cannot shorten them is named as
    /// such; and the setting needs `dimensions`.
    #[test]
    fn send_dimensions_asks_the_model_for_the_length() {
        use crate::embed::Embed;
        use crate::embed::cache::NoCache;
        use crate::embed::tests::named;
        let (base, _hits) = server();
        let sets = [named("a", &["one", "three"])];
        let sets: Vec<_> = sets.iter().collect();
        let embed_with = |mode: &str, send: bool| {
            let mut settings = config(&base, mode);
            settings.dimensions = Some(5);
            settings.send_dimensions = send;
            Embed::with_cache(
                Arc::new(HttpEmbedder::new(&settings).unwrap()),
                Arc::new(NoCache),
            )
            .embed_sets(&sets)
            .pop()
            .unwrap()
        };
        let out = embed_with("shorten", true).unwrap();
        assert!(out.chunks.iter().all(|chunk| chunk.vector.len() == 5));
        let unsent = embed_with("shorten", false).unwrap_err();
        assert!(
            unsent.message.contains("has 3 dimensions, expected 5")
                && unsent.message.contains("`send_dimensions: true`"),
            "{unsent}"
        );
        let unable = embed_with("ok", true).unwrap_err();
        assert!(
            unable.message.contains("cannot shorten its vectors"),
            "{unable}"
        );
        let mut alone = HttpConfig::new("http://h/v1", "m");
        alone.send_dimensions = true;
        let keys: Vec<&str> = alone.problems().iter().map(|(key, _)| *key).collect();
        assert_eq!(keys, ["send_dimensions"]);
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

    /// A reply that comes within [`STOP_GRACE`] of a stop is kept: the provider did the work
    /// (Ctrl-C dropped a request a moment before its reply, and the next run sent it again).
    /// The server answers a second after the stop; the request may take 10 (the tests' 1 s
    /// timeout raced that second, and a loaded machine lost the reply to it).
    #[test]
    fn a_reply_soon_after_a_stop_is_kept() {
        let (base, _) = server();
        let mut settings = config(&base, "stop-slow");
        settings.concurrency = 1;
        settings.timeout = 10.0;
        let embedder = HttpEmbedder::new(&settings).unwrap();
        let out = embedder
            .embed_documents_until(&texts(), &STOP_SLOW)
            .unwrap();
        assert!(out.stopped);
        assert_eq!(out.batches.len(), 1);
        assert_eq!(out.vectors[..2], [vector_for("a"), vector_for("bb")]);
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
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
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
            err.server_fault && !err.unavailable,
            "retries spent on 5xx: down, or failing on one text"
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
        let err = unauthorized.embed_documents(&["x"]).unwrap_err();
        assert!(err.unavailable, "a refused key fails every text at once");
        let err = err.to_string();
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
        // 256 KiB a text: an 8,192-dimension vector as JSON, with room to spare.
        assert_eq!(reply_limit(1), (1 << 20) + (256 << 10));
        assert_eq!(reply_limit(64), (1 << 20) + 64 * (256 << 10));
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

    /// `concurrency` bounds the requests in flight to an endpoint: a step's workers (threads
    /// sharing one provider) and every provider that calls it with the same key (another
    /// step, a semantic chunker's), whatever its other settings, together never have more than
    /// the smallest `concurrency` among them in flight. Another key is another account, with
    /// a limit of its own.
    #[test]
    fn concurrency_bounds_the_requests_in_flight_of_every_provider_of_the_endpoint() {
        let (base, hits) = server();
        let mut settings = config(&base, "count");
        settings.batch_size = 1;
        settings.concurrency = 2;
        let first = Arc::new(HttpEmbedder::new(&settings).unwrap());
        let mut other = settings.clone();
        other.concurrency = 3;
        other.document_prefix = "passage: ".into();
        let second = Arc::new(HttpEmbedder::new(&other).unwrap());
        assert!(Arc::ptr_eq(&first.endpoint, &second.endpoint));
        // Any variable that is set will do: no request is sent with it.
        other.api_key_env = Some("PATH".into());
        let account = HttpEmbedder::new(&other).unwrap();
        assert!(!Arc::ptr_eq(&first.endpoint, &account.endpoint));
        let texts = ["a", "b", "c", "d"];
        std::thread::scope(|scope| {
            for embedder in [&first, &first, &second, &second] {
                scope.spawn(|| assert_eq!(embedder.embed_documents(&texts).unwrap().len(), 4));
            }
        });
        assert_eq!(hits.lock().unwrap()["count"], 16);
        let most = MOST_IN_FLIGHT.load(Ordering::SeqCst);
        assert!(
            most <= 2,
            "{most} requests in flight at once, `concurrency` is 2"
        );
        assert_eq!(most, 2, "requests ran side by side");
    }

    /// Steps are set up before their providers are built (on their first chunks): the first
    /// to send is held to the smallest `concurrency` of every step set up that calls the
    /// endpoint, from its first request (it sent at its own until the others were built).
    #[test]
    fn concurrency_counts_every_step_set_up_from_the_first_request() {
        let mut fast = HttpConfig::new("http://127.0.0.1:9/v1", "held");
        fast.concurrency = 3;
        let mut slow = fast.clone();
        slow.concurrency = 1;
        slow.document_prefix = "passage: ".into();
        let base = std::path::Path::new(".");
        let _fast_step =
            crate::embed::Embed::new(&crate::embed::EmbedConfig::Http(fast.clone()), base);
        let _slow_step = crate::embed::Embed::new(&crate::embed::EmbedConfig::Http(slow), base);
        let provider = HttpEmbedder::new(&fast).unwrap();
        assert_eq!(provider.endpoint.flight().limit, 1);
    }

    /// Once a request spent its retries on server failures, later requests are tried once
    /// (failing every text of their call at once) until one succeeds, which restores retries.
    #[test]
    fn a_provider_down_through_its_retries_is_tried_once_until_it_answers() {
        let (base, hits) = server();
        let embedder = HttpEmbedder::new(&config(&base, "down-5")).unwrap();
        let hits_now = || hits.lock().unwrap()["down-5"];
        let first = embedder.embed_documents(&["x"]).unwrap_err();
        assert!(first.server_fault, "{first}");
        assert_eq!(hits_now(), 4, "1 + 3 retries");
        let second = embedder.embed_documents(&["y"]).unwrap_err();
        assert!(second.unavailable, "{second}");
        assert!(second.message.contains("without retries"), "{second}");
        assert_eq!(hits_now(), 5, "tried once");
        assert_eq!(embedder.embed_documents(&["z"]).unwrap().len(), 1);
        // Up again: the 7th request fails and is retried.
        let out = embedder.embed_documents_debug(&["w"]).unwrap();
        assert_eq!(out.batches[0].retries, 1);
        assert_eq!(hits_now(), 8);
    }

    /// A call that fails on the server's side through its retries because of one document's
    /// text: the documents are tried alone, once each, and only that one fails.
    #[test]
    fn a_text_the_server_fails_with_5xx_fails_only_its_document() {
        use crate::embed::Embed;
        use crate::embed::cache::NoCache;
        use crate::embed::tests::named;
        let (base, hits) = server();
        let mut settings = config(&base, "zebra");
        settings.batch_size = 64;
        settings.retries = 1;
        let embed = Embed::with_cache(
            Arc::new(HttpEmbedder::new(&settings).unwrap()),
            Arc::new(NoCache),
        );
        let sets = [
            named("a", &["horses"]),
            named("b", &["zebra stripes"]),
            named("c", &["giraffes"]),
        ];
        let out = embed.embed_sets(&sets.iter().collect::<Vec<_>>());
        assert_eq!(
            out[0].as_ref().unwrap().chunks[0].vector,
            vector_for("horses")
        );
        let error = out[1].as_ref().unwrap_err();
        assert!(error.message.contains("500"), "{error}");
        // Every attempt told: the call's 2 (`retries: 1`), then the document's own.
        assert!(
            error.message.contains(
                "gave up after 2 attempts of the batch with the other documents and 1 of the document alone"
            ),
            "{error}"
        );
        assert_eq!(
            out[2].as_ref().unwrap().chunks[0].vector,
            vector_for("giraffes")
        );
        // The call (2 attempts), then each document once.
        assert_eq!(hits.lock().unwrap()["zebra"], 5);
    }

    /// Vectors of another length than `dimensions` fail the call at once, naming the setting,
    /// and no request is sent again in the run; a reply malformed for every text (another
    /// number of vectors) fails its call at once too: neither resends each document alone (the
    /// corpus was sent, and billed, twice).
    #[test]
    fn a_reply_every_text_gets_fails_the_call_without_resending_its_documents() {
        use crate::embed::Embed;
        use crate::embed::cache::NoCache;
        use crate::embed::tests::named;
        let (base, hits) = server();
        let sets = [
            named("a", &["one"]),
            named("b", &["two"]),
            named("c", &["x"]),
        ];
        let sets: Vec<_> = sets.iter().collect();
        let mut settings = config(&base, "ok");
        settings.dimensions = Some(4);
        settings.batch_size = 64;
        let embed = Embed::with_cache(
            Arc::new(HttpEmbedder::new(&settings).unwrap()),
            Arc::new(NoCache),
        );
        for result in embed.embed_sets(&sets) {
            let error = result.unwrap_err();
            assert!(error.unavailable, "{error}");
            assert!(
                error.message.contains("`dimensions`")
                    && error
                        .message
                        .contains("does not ask the provider for a length"),
                "{error}"
            );
        }
        assert_eq!(hits.lock().unwrap()["ok"], 1, "sent once");
        let again = embed.embed_sets(&sets[..1]).pop().unwrap().unwrap_err();
        assert!(again.message.contains("no request sent"), "{again}");
        assert_eq!(hits.lock().unwrap()["ok"], 1, "nothing sent again");
        settings = config(&base, "short");
        settings.batch_size = 64;
        let embed = Embed::with_cache(
            Arc::new(HttpEmbedder::new(&settings).unwrap()),
            Arc::new(NoCache),
        );
        for result in embed.embed_sets(&sets) {
            assert!(result.unwrap_err().unavailable);
        }
        assert_eq!(hits.lock().unwrap()["short"], 1, "sent once");
    }

    /// After [`QUOTA_CALLS`] requests in a row spent all their retries on 429s, later ones are
    /// tried once (they spent every retry, with `Retry-After` waits, forever), with a message
    /// naming the quota, `retries` and `concurrency`; an `insufficient_quota` 429 does so at
    /// once. A success restores retries.
    #[test]
    fn a_persistent_429_marks_the_quota_exhausted() {
        let (base, hits) = server();
        let mut settings = config(&base, "throttled");
        settings.retries = 2;
        settings.backoff = 0.0;
        let embedder = HttpEmbedder::new(&settings).unwrap();
        let hits_now = |mode: &str| hits.lock().unwrap()[mode];
        for call in 1..=QUOTA_CALLS {
            let err = embedder.embed_documents(&["x"]).unwrap_err();
            assert!(err.unavailable, "{err}");
            assert_eq!(hits_now("throttled"), 3 * call, "with retries");
            assert_eq!(err.message.contains("quota"), call == QUOTA_CALLS, "{err}");
        }
        let err = embedder.embed_documents(&["y"]).unwrap_err();
        assert!(
            err.message.contains("`retries`") && err.message.contains("`concurrency`"),
            "{err}"
        );
        assert_eq!(hits_now("throttled"), 3 * QUOTA_CALLS + 1, "tried once");
        settings = config(&base, "no-quota");
        settings.retries = 5;
        let embedder = HttpEmbedder::new(&settings).unwrap();
        let err = embedder.embed_documents(&["x"]).unwrap_err();
        assert!(
            err.unavailable && err.message.contains("insufficient_quota"),
            "{err}"
        );
        assert!(err.message.contains("`concurrency`"), "{err}");
        assert_eq!(hits_now("no-quota"), 1, "not retried");
    }

    /// A key or proxy refusal, or an endpoint not found, is about every request: the call
    /// fails at once, never resent (a 404 was sent again for every document).
    #[test]
    fn refused_credentials_or_a_missing_endpoint_fail_the_call_at_once() {
        let (base, hits) = server();
        let modes = [
            ("forbidden", "403"),
            ("proxy-auth", "proxy"),
            ("nowhere", "check `base_url` and `model`"),
        ];
        for (mode, needle) in modes {
            let mut settings = config(&base, mode);
            settings.batch_size = 1;
            settings.concurrency = 1;
            let err = HttpEmbedder::new(&settings)
                .unwrap()
                .embed_documents(&["x", "y", "z"])
                .unwrap_err();
            assert!(err.unavailable, "{mode}: {err}");
            assert!(err.message.contains(needle), "{mode}: {err}");
            assert_eq!(hits.lock().unwrap()[mode], 1, "{mode}: sent once");
        }
    }

    /// A redirect is not followed (a POST would become a GET) nor retried: it says where to.
    #[test]
    fn a_redirect_says_which_base_url_to_set() {
        let (base, hits) = server();
        let err = HttpEmbedder::new(&config(&base, "moved"))
            .unwrap()
            .embed_documents(&["x"])
            .unwrap_err();
        assert!(err.unavailable, "{err}");
        assert!(
            err.message.contains("redirected (308)")
                && err
                    .message
                    .contains("set `base_url: https://127.0.0.1:9/new/v1`"),
            "{err}"
        );
        let err = HttpEmbedder::new(&config(&base, "moved-get"))
            .unwrap()
            .embed_documents(&["x"])
            .unwrap_err();
        assert!(
            err.message.contains("redirected (301) to `/elsewhere`"),
            "{err}"
        );
        let hits = hits.lock().unwrap();
        assert_eq!((hits["moved"], hits["moved-get"]), (1, 1));
    }

    /// The engine asks for uncompressed replies; one compressed all the same fails at once,
    /// saying so.
    #[test]
    fn a_compressed_reply_is_an_error_that_says_so() {
        let (base, hits) = server();
        let err = HttpEmbedder::new(&config(&base, "gzip"))
            .unwrap()
            .embed_documents(&["x"])
            .unwrap_err();
        assert!(err.unavailable, "{err}");
        assert!(err.message.contains("Content-Encoding: gzip"), "{err}");
        assert_eq!(hits.lock().unwrap()["gzip"], 1);
    }

    /// A key that cannot be a header (the `\r` a CRLF `.env` file leaves) fails before any
    /// request, naming its variable, never the key; `validate` warns about it.
    #[test]
    fn a_key_that_cannot_be_a_header_fails_at_once() {
        let var = "ENGINE_TEST_EMBED_KEY_CRLF";
        // SAFETY: set once by this test, read only by it.
        unsafe { std::env::set_var(var, format!("{KEY}\r")) };
        let mut settings = config("http://127.0.0.1:9", "unused");
        settings.api_key_env = Some(var.to_owned());
        let err = HttpEmbedder::new(&settings).unwrap_err();
        assert!(
            err.message.contains(var) && err.message.contains("line break"),
            "{err}"
        );
        assert!(!err.message.contains(KEY), "{err}");
        let warnings = settings.environment_warnings();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].0, "api_key_env");
        assert_eq!(key_problem("sk-abc def"), key_problem("sk-é"));
        assert!(key_problem(KEY).is_none());
    }

    /// Credentials in `base_url` never reach a message: errors show `user:***`, and `validate`
    /// warns when `api_key_env` is set beside them (the Bearer key is sent, not them).
    #[test]
    fn credentials_in_base_url_are_redacted_from_every_message() {
        let (base, _) = server();
        let with_userinfo = base.replace("http://", "http://alice:S3cret@");
        let mut settings = config(&with_userinfo, "down");
        settings.retries = 0;
        let embedder = HttpEmbedder::new(&settings).unwrap();
        assert!(!format!("{embedder:?}").contains("S3cret"));
        let err = embedder.embed_documents(&["x"]).unwrap_err().to_string();
        assert!(!err.contains("S3cret"), "{err}");
        assert!(err.contains("http://alice:***@127.0.0.1"), "{err}");
        let err = HttpEmbedder::new(&config(&with_userinfo, "nowhere"))
            .unwrap()
            .embed_documents(&["x"])
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("S3cret") && err.contains("alice:***@"),
            "{err}"
        );
        let bad = HttpConfig::new("http://alice:S3cret@h:99999/v1", "m").problems();
        assert!(!bad[0].1.contains("S3cret"), "{bad:?}");
        assert_eq!(shown_url("https://tok@h/v1"), "https://***@h/v1");
        assert_eq!(shown_url("http://h/v1@x"), "http://h/v1@x");
        assert!(settings.environment_warnings().is_empty());
        settings.api_key_env = Some("PATH".into());
        let warnings = settings.environment_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0, "base_url");
        assert!(
            warnings[0].1.contains("Bearer") && !warnings[0].1.contains("S3cret"),
            "{warnings:?}"
        );
    }

    /// A key variable set but empty warns and fails before any request (it sent `Bearer `);
    /// a `base_url` ending in `/embeddings` warns with the `base_url` to write.
    #[test]
    fn an_empty_key_and_a_base_url_ending_in_embeddings_warn() {
        let var = "ENGINE_TEST_EMBED_KEY_EMPTY";
        // SAFETY: set once by this test, read only by it.
        unsafe { std::env::set_var(var, "") };
        let mut settings = HttpConfig::new("http://127.0.0.1:9/v1", "m");
        settings.api_key_env = Some(var.to_owned());
        let warnings = settings.environment_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0, "api_key_env");
        assert!(warnings[0].1.contains("empty"), "{warnings:?}");
        let err = HttpEmbedder::new(&settings).unwrap_err();
        assert!(err.unavailable && err.message.contains("empty"), "{err}");
        let suffixed = HttpConfig::new("http://127.0.0.1:9/v1/embeddings/", "m");
        let warnings = suffixed.environment_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0, "base_url");
        assert!(
            warnings[0]
                .1
                .contains("write `base_url: http://127.0.0.1:9/v1`"),
            "{warnings:?}"
        );
    }

    /// `validate` refuses a `base_url` no request can go to, and accepts the scheme in any case.
    #[test]
    fn base_url_and_model_are_checked() {
        for url in [
            "http://",
            "http://127.0.0.1 :8080/v1",
            "http://127.0.0.1:8080/v1 ",
            "http://127.0.0.1:99999/v1",
            "http://127.0.0.1:8080/v1?api-version=2024",
            "http://127.0.0.1:8080/v1#x",
            "ftp://x",
            "127.0.0.1:8080",
        ] {
            let keys: Vec<&str> = HttpConfig::new(url, "m")
                .problems()
                .iter()
                .map(|(key, _)| *key)
                .collect();
            assert_eq!(keys, ["base_url"], "{url}");
        }
        for url in [
            "HTTP://127.0.0.1:8080/v1",
            "http://[::1]:8080/v1/",
            "http://h/v1",
        ] {
            assert!(HttpConfig::new(url, "m").problems().is_empty(), "{url}");
        }
        let upper = HttpConfig::new("HTTP://127.0.0.1:8080/v1", "m");
        assert_eq!(upper.endpoint_url(), "http://127.0.0.1:8080/v1/embeddings");
        let keys: Vec<&str> = HttpConfig::new("http://h/v1", "")
            .problems()
            .iter()
            .map(|(key, _)| *key)
            .collect();
        assert_eq!(keys, ["model"]);
    }

    /// `Retry-After` as an HTTP date waits until then, at most [`MAX_WAIT`].
    #[test]
    fn retry_after_takes_an_http_date() {
        let date = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let header = "Wed, 21 Oct 2015 07:28:00 GMT";
        let before = |seconds| date - Duration::from_secs(seconds);
        assert_eq!(
            retry_after_at(header, before(21)),
            Some(Duration::from_secs(21))
        );
        assert_eq!(retry_after_at(header, before(3600)), Some(MAX_WAIT));
        assert_eq!(
            retry_after_at(header, date + Duration::from_secs(5)),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after_at("Wednesday, 21-Oct-15 07:28:00 GMT", before(2)),
            Some(Duration::from_secs(2))
        );
    }

    /// A query retries at most once whatever `retries` says, and says once that it waits.
    #[test]
    fn a_query_retries_once_and_says_it_waits() {
        let (base, hits) = server();
        let embedder = HttpEmbedder::new(&config(&base, "down")).unwrap();
        let notes = Mutex::new(Vec::new());
        let note = |text: &str| notes.lock().unwrap().push(text.to_owned());
        let err = embedder.embed_query_noting("q", &note).unwrap_err();
        assert!(err.message.contains("gave up after 2 attempts"), "{err}");
        assert_eq!(hits.lock().unwrap()["down"], 2);
        let notes = notes.into_inner().unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("waiting for the embedding provider"),
            "{notes:?}"
        );
    }
}
