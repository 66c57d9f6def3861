//! String functions as a plugin: borrowed `&str` arguments, `String`
//! results the host copies, and a function that fails with a message.
//!
//! Build it with `cargo build -p hotslot-string-ops`, then run
//! `cargo run -p hotslot -- run host/examples/strings.hsasm --bind 0=target/debug/libhotslot_string_ops.so ...`
//! (see `host/examples/strings.hsasm` for the slots it imports).

hotslot_plugin_api::plugin! {
    name = "string_ops";
    version = "1.0.0";

    /// Joins two strings.
    pub fn str_concat(a: &str, b: &str) -> String {
        let mut s = String::with_capacity(a.len() + b.len());
        s.push_str(a);
        s.push_str(b);
        s
    }

    /// Length in characters (not bytes).
    pub fn str_len(s: &str) -> i64 {
        s.chars().count() as i64
    }

    /// Upper case, by Unicode rules.
    pub fn str_upper(s: &str) -> String {
        s.to_uppercase()
    }

    /// The `index`-th character, or an error when there is none.
    pub fn str_char_at(s: &str, index: i64) -> Result<String, String> {
        usize::try_from(index)
            .ok()
            .and_then(|i| s.chars().nth(i))
            .map(String::from)
            .ok_or_else(|| format!("index {index} is out of range for a string of {} characters", s.chars().count()))
    }

    /// `s` repeated `n` times; fails for a negative count.
    pub fn str_repeat(s: &str, n: i32) -> Result<String, String> {
        usize::try_from(n)
            .map(|n| s.repeat(n))
            .map_err(|_| format!("cannot repeat a string {n} times"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_work_as_plain_rust() {
        assert_eq!(str_concat("ab", "cd"), "abcd");
        assert_eq!(str_len("héllo"), 5);
        assert_eq!(str_upper("straße"), "STRASSE");
        assert_eq!(str_char_at("abc", 1).unwrap(), "b");
        assert!(str_char_at("abc", 3).unwrap_err().contains("out of range"));
        assert!(str_repeat("x", -1).is_err());
    }
}
