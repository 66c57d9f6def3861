//! A Rust plugin of the particles interface, built against the edited copy.

use particles_interface::Particle;

hotslot_plugin_api::plugin! {
    name = "particles_edited";
    version = "1.0.0";
    host = particles_interface::Host;

    /// Reverses each particle's velocity.
    pub fn step(particles: &mut [Particle], dt: f64) {
        let _ = dt;
        for p in particles.iter_mut() {
            p.vel = [-p.vel[0], -p.vel[1]];
        }
    }
}
