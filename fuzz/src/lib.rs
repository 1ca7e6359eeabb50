//! What the fuzz targets share.

/// Runs `read` on a thread with the stack `plumb check` gives its readers, as the checker
/// does: a stack overflow within that stack is a finding, one only on libFuzzer's own smaller
/// main thread is not. A panic still aborts the run (libFuzzer's panic hook runs first).
pub fn on_plumb_stack(read: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(plumb_check::sql::parse::PARSE_STACK)
            .spawn_scoped(scope, read)
            .expect("a thread for the reader")
            .join()
            .expect("the reader returns");
    });
}
