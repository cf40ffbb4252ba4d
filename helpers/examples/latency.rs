//! Prints pointer-chasing latency from 4 KiB to 512 MiB:
//! `cargo run --release -p hpr --example latency`.

fn main() {
    for power in 12..=29 {
        let bytes = 1usize << power;
        match hpr::pointer_chase_latency(bytes, 2_000_000) {
            Ok(seconds) => println!(
                "{:>10}  {}",
                hpr::format_bytes(bytes as i64),
                hpr::format_duration(seconds)
            ),
            Err(error) => println!("{bytes}: {error}"),
        }
    }
}
