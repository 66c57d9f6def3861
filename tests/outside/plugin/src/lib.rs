//! A plugin written outside hotslot's workspace, as its README shows.

hotslot_plugin_api::plugin! {
    name = "greeter";
    version = "0.1.0";

    /// Greets `name`, loudly when asked.
    pub fn greet(name: &str, loud: bool) -> String {
        let greeting = format!("hello, {name}");
        if loud { greeting.to_uppercase() } else { greeting }
    }
}
