//! The processor time the calling thread has had, which, unlike the time on the clock, does
//! not grow while the thread waits for a busy machine.

use std::time::Duration;

/// The processor time the calling thread has used so far; `None` where the system cannot say.
pub fn of_this_thread() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call to fill in.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if status != 0 {
        return None;
    }
    let seconds = u64::try_from(now.tv_sec).ok()?;
    let nanos = u32::try_from(now.tv_nsec).ok()?;
    Some(Duration::new(seconds, nanos))
}

/// Of the time on the clock since `started`, the share (in percent, at most 100) the calling
/// thread had the processor for, given its processor time `cpu_at_start` then; `None` when
/// either is unknown or no time passed.
pub fn share_since(started: std::time::Instant, cpu_at_start: Option<Duration>) -> Option<u32> {
    let used = of_this_thread()?.checked_sub(cpu_at_start?)?;
    let elapsed = started.elapsed();
    if elapsed.is_zero() {
        return None;
    }
    let percent = used.as_secs_f64() / elapsed.as_secs_f64() * 100.0;
    Some(percent.round().min(100.0) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Spinning takes the processor; sleeping does not.
    #[test]
    fn a_busy_thread_has_the_processor_and_a_sleeping_one_does_not() {
        let (started, at_start) = (Instant::now(), of_this_thread());
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(200) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let busy = share_since(started, at_start).unwrap();
        let (started, at_start) = (Instant::now(), of_this_thread());
        std::thread::sleep(Duration::from_millis(200));
        let idle = share_since(started, at_start).unwrap();
        // However busy the machine (tests run side by side), a spinning thread gets some.
        assert!(
            idle <= 2 && busy > idle,
            "spinning {busy}%, sleeping {idle}%"
        );
    }
}
