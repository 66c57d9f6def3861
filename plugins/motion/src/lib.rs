//! The game logic of the frame loop example (`host/examples/frame_loop.rs`):
//! a ball bouncing along a line. The host calls `step` and `draw` every
//! frame; edit either, rebuild (`cargo build -p hotslot-motion`), and the
//! running example picks the new build up.

/// The line's length, in units.
const LENGTH: f64 = 10.0;

hotslot_plugin_api::plugin! {
    name = "motion";
    version = "1.0.0";

    /// Where the ball is `dt` seconds after being at `x` (from 0 to twice
    /// the line's length: the way there, then the way back), moving at
    /// `speed` units per second.
    pub fn step(x: f64, speed: f64, dt: f64) -> f64 {
        (x + speed * dt).rem_euclid(2.0 * LENGTH)
    }

    /// The line, `width` characters wide, with the ball at `x`.
    pub fn draw(x: f64, width: i32) -> String {
        let width = width.max(1) as usize;
        let along = if x <= LENGTH { x } else { 2.0 * LENGTH - x };
        let at = ((along / LENGTH) * (width - 1) as f64).round() as usize;
        (0..width).map(|i| if i == at { 'o' } else { '.' }).collect()
    }
}
