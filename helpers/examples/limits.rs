//! Prints this machine's description and measured limits:
//! `cargo run --release -p hpr --example limits`.

fn main() {
    println!("{}", hpr::machine());
    println!("{}", hpr::limits());
}
