//! An error and its causes as one line.

/// An error and its causes on one line: `what: why: root cause`. A cause
/// its error's message already ends with (`cannot load `x`: not a file`)
/// is not said twice.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}
