//! The particles example's Rust plugin. Edit `step` (the gravity, the
//! bounce), run `cargo build -p particles-rust`, and the running example
//! picks the new build up.

use particles_interface::{BOX, Particle};

/// How much of its speed a particle keeps when it bounces.
const BOUNCE: f32 = 1.0;

hotslot_plugin_api::plugin! {
    name = "particles_rust";
    version = "1.0.0";
    host = particles_interface::Host;

    /// Moves each particle by its velocity for `dt` seconds, bouncing off
    /// the walls of the box; tells the host how many bounced.
    pub fn step(particles: &mut [Particle], dt: f64) {
        let mut bounced = 0;
        for p in particles.iter_mut() {
            for axis in 0..2 {
                p.pos[axis] += p.vel[axis] * dt as f32;
                if !(0.0..=BOX).contains(&p.pos[axis]) {
                    p.pos[axis] = p.pos[axis].clamp(0.0, BOX);
                    p.vel[axis] = -p.vel[axis] * BOUNCE;
                    bounced += 1;
                }
            }
        }
        if bounced > 0 {
            host().log(&format!("rust: {bounced} bounced"));
        }
    }
}
