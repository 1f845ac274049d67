//! A connection whose writes must make progress: one that can send nothing for a whole
//! `patience` (its peer reads nothing, so the socket's buffer stays full) fails with
//! `TimedOut`. `engine serve` wraps each connection in one, so that a client that asks for a
//! large answer and never reads it does not hold its connection, one of a bounded number, for
//! ever. Reads are left as they are (the server bounds those with its own timeouts).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `inner`, whose writes fail once they have made no progress for `patience`.
pub struct WriteDeadline<S> {
    inner: S,
    patience: Duration,
    /// Armed when a write first waits; disarmed when one makes progress.
    stalled_since: Option<Pin<Box<Sleep>>>,
}

impl<S> WriteDeadline<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, patience: Duration) -> Self {
        WriteDeadline {
            inner,
            patience,
            stalled_since: None,
        }
    }

    /// What a write that came back `polled` means: progress disarms the deadline; waiting arms
    /// it, and past it is an error.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled_since = None;
            return polled;
        }
        let patience = self.patience;
        let deadline = (self.stalled_since)
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + patience)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the peer read nothing for {} s", patience.as_secs()),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A write nobody reads fails after the patience; one read slowly meanwhile completes.
    #[tokio::test]
    async fn a_write_nobody_reads_fails_after_the_patience() {
        let patience = Duration::from_secs(1);
        let (ours, _theirs) = tokio::io::duplex(64);
        let mut guarded = WriteDeadline::new(ours, patience);
        let started = Instant::now();
        let err = guarded.write_all(&[7; 4096]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= patience);

        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut guarded = WriteDeadline::new(ours, patience);
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            let mut block = [0; 64];
            while all.len() < 4096 {
                // Slow, but never near the patience without reading.
                tokio::time::sleep(Duration::from_millis(20)).await;
                let read = theirs.read(&mut block).await.unwrap();
                all.extend_from_slice(&block[..read]);
            }
            all
        });
        guarded.write_all(&[7; 4096]).await.unwrap();
        assert_eq!(reader.await.unwrap(), vec![7; 4096]);
    }
}
