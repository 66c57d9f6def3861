//! hotslot's end-to-end tests, one module per behaviour. Every plugin and
//! fixture is built once per run by `hotslot_tests::built()`.

mod abi;
mod cli;
mod copies;
mod embedding;
mod faults;
mod interfaces;
mod isolation;
mod live;
mod mistakes;
mod observers;
mod programs;
mod release;
mod reload;
mod watch;
