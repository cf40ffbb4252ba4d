//! Values handed to a Python script as assignments at its top, never spliced into its text.
//!
//! A script that takes its parameters as Python variables reads like Python, and a value with a
//! quote or a newline in it cannot change what the script does: [`python_params!`] writes each
//! value as the Python literal of the same value.
//!
//! [`python_params!`]: crate::python_params

/// A Rust value as the Python literal of the same value.
pub trait PythonLiteral {
    /// The literal: `"text"` (a JSON string, which Python reads the same), `42`, `1.5`, `True`,
    /// `None`, `[1, 2]`, `("a", 1)`.
    fn python_literal(&self) -> String;
}

impl PythonLiteral for str {
    fn python_literal(&self) -> String {
        serde_json::to_string(self).expect("a string serializes")
    }
}

impl PythonLiteral for String {
    fn python_literal(&self) -> String {
        self.as_str().python_literal()
    }
}

impl PythonLiteral for bool {
    fn python_literal(&self) -> String {
        if *self { "True" } else { "False" }.to_owned()
    }
}

macro_rules! integer_literals {
    ($($kind:ty),*) => {$(
        impl PythonLiteral for $kind {
            fn python_literal(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
integer_literals!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl PythonLiteral for f64 {
    /// Written with enough digits to read back the same float; NaN and infinities as
    /// `float('nan')` and `float('inf')`.
    fn python_literal(&self) -> String {
        if self.is_nan() {
            "float('nan')".into()
        } else if self.is_infinite() {
            format!("float('{}inf')", if *self < 0.0 { "-" } else { "" })
        } else {
            format!("{self:?}")
        }
    }
}

impl PythonLiteral for f32 {
    fn python_literal(&self) -> String {
        f64::from(*self).python_literal()
    }
}

impl<T: PythonLiteral + ?Sized> PythonLiteral for &T {
    fn python_literal(&self) -> String {
        (**self).python_literal()
    }
}

impl<T: PythonLiteral> PythonLiteral for Option<T> {
    fn python_literal(&self) -> String {
        self.as_ref()
            .map_or("None".into(), PythonLiteral::python_literal)
    }
}

impl<T: PythonLiteral> PythonLiteral for [T] {
    fn python_literal(&self) -> String {
        let items: Vec<String> = self.iter().map(PythonLiteral::python_literal).collect();
        format!("[{}]", items.join(", "))
    }
}

impl<T: PythonLiteral, const N: usize> PythonLiteral for [T; N] {
    fn python_literal(&self) -> String {
        self.as_slice().python_literal()
    }
}

impl<T: PythonLiteral> PythonLiteral for Vec<T> {
    fn python_literal(&self) -> String {
        self.as_slice().python_literal()
    }
}

impl<A: PythonLiteral, B: PythonLiteral> PythonLiteral for (A, B) {
    /// A Python tuple: `("Ann Lee", "555-0001")`.
    fn python_literal(&self) -> String {
        format!("({}, {})", self.0.python_literal(), self.1.python_literal())
    }
}

/// Python assignments, one line per parameter, to put before a script that reads them as
/// variables: each value written as its Python literal ([`PythonLiteral`]).
///
/// ```
/// use hpr::python_params;
/// let url = "redis://127.0.0.1:6379/";
/// let params = python_params!(URL = url, WORKERS = 3, SHARE = 0.5, QUEUES = ["a", "b"]);
/// assert_eq!(
///     params,
///     "URL = \"redis://127.0.0.1:6379/\"\nWORKERS = 3\nSHARE = 0.5\nQUEUES = [\"a\", \"b\"]\n"
/// );
/// // A quote or a newline stays inside the string.
/// assert_eq!(python_params!(NAME = "a\"\nb"), "NAME = \"a\\\"\\nb\"\n");
/// ```
#[macro_export]
macro_rules! python_params {
    ($($name:ident = $value:expr),* $(,)?) => {{
        let mut assignments = ::std::string::String::new();
        $(
            assignments.push_str(stringify!($name));
            assignments.push_str(" = ");
            assignments.push_str(&$crate::PythonLiteral::python_literal(&$value));
            assignments.push('\n');
        )*
        assignments
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_the_same_python_literals() {
        assert_eq!(true.python_literal(), "True");
        assert_eq!(Some(7u64).python_literal(), "7");
        assert_eq!(None::<u64>.python_literal(), "None");
        assert_eq!(0.1f64.python_literal(), "0.1");
        assert_eq!(1e300f64.python_literal(), "1e300");
        assert_eq!(2.0f64.python_literal(), "2.0");
        assert_eq!(f64::NAN.python_literal(), "float('nan')");
        assert_eq!(f64::NEG_INFINITY.python_literal(), "float('-inf')");
        assert_eq!(vec![1i64, -2].python_literal(), "[1, -2]");
        assert_eq!(("a", 1u8).python_literal(), "(\"a\", 1)");
        assert_eq!("é'\\".python_literal(), "\"é'\\\\\"");
    }

    #[test]
    fn python_reads_the_assignments_back() {
        let params = crate::python_params!(
            TEXT = "quote \" and\nnewline",
            NUMBERS = [1.5f64, -2.0],
            FLAG = false,
            COUNT = 12usize,
        );
        let script = format!(
            "{params}assert TEXT == 'quote \" and\\nnewline', TEXT\n\
             assert NUMBERS == [1.5, -2.0] and FLAG is False and COUNT == 12\n\
             print('read back')"
        );
        let output = crate::python_run(&script).unwrap();
        assert!(output.contains("read back"), "{output}");
    }
}
