//! The allocator the `plumb` binary runs on: mimalloc. Checking a repository is hundreds of
//! thousands of small allocations on several threads at once (the parsers' tokens and trees,
//! the replayed schemas); glibc's allocator spent more than a quarter of `plumb check`'s
//! instructions on them. See docs/benchmarks/corpora.md for the figures on real repositories.

/// mimalloc's `mi_option_purge_delay`: its place in `mi_option_t` (mimalloc.h), which the
/// bindings do not name.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system after 2 ms rather than mimalloc's second: a check lasts
/// tens of milliseconds, and with a second its peak memory grew by a sixth on Lemmy's 342
/// migrations for no time saved; at 0 it costs time (pages given back, then faulted in again).
#[allow(unsafe_code)] // a C function of the allocator's own
pub fn configure() {
    // SAFETY: sets a number mimalloc reads when it next schedules a purge; any value is valid.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 2) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn the_option_set_is_the_purge_delay() {
        // A second is mimalloc's default purge delay: the option's place has not moved.
        // SAFETY: reads an option.
        let default = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        let overridden = ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        if !overridden {
            assert_eq!(default, 1000);
        }
        configure();
        // SAFETY: as above.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, 2);
    }
}
