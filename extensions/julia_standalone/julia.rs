//! The Julia set of chapter 08 as a stand-alone program, compiled by the notebook with `rustc`
//! under several profiles (opt level, overflow checks, debug assertions) to time what each
//! setting costs. It computes the book's picture (1000 × 1000 points, 300 iterations, |z|² < 4)
//! and prints the sum of the escape counts, the book's checksum 33219980.

#[derive(Clone, Copy)]
struct Complex {
    re: f64,
    im: f64,
}

impl Complex {
    /// z * z + c, with Python's complex multiplication.
    fn square_plus(self, c: Complex) -> Complex {
        Complex {
            re: self.re * self.re - self.im * self.im + c.re,
            im: self.re * self.im + self.im * self.re + c.im,
        }
    }
}

/// The axes, built as the book does: start at one end and add a step while inside.
fn axes(width: usize) -> (Vec<f64>, Vec<f64>) {
    let step = 3.6 / width as f64;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let mut y = 1.8;
    while y > -1.8 {
        ys.push(y);
        y += -step;
    }
    let mut x = -1.8;
    while x < 1.8 {
        xs.push(x);
        x += step;
    }
    (xs, ys)
}

fn escape_time(mut z: Complex, c: Complex, max_iterations: u32) -> u32 {
    let mut n = 0;
    while z.re * z.re + z.im * z.im < 4.0 && n < max_iterations {
        z = z.square_plus(c);
        n += 1;
    }
    n
}

fn main() {
    let width: usize = std::env::args()
        .nth(1)
        .map_or(1000, |w| w.parse().expect("a width"));
    let (xs, ys) = axes(width);
    let c = Complex {
        re: -0.62772,
        im: -0.42193,
    };
    let mut zs = Vec::new();
    for &y in &ys {
        for &x in &xs {
            zs.push(Complex { re: x, im: y });
        }
    }
    let mut output = vec![0u32; zs.len()];
    for i in 0..zs.len() {
        output[i] = escape_time(zs[i], c, 300);
    }
    let mut checksum: u64 = 0;
    for i in 0..output.len() {
        checksum += output[i] as u64;
    }
    println!("{checksum}");
}
