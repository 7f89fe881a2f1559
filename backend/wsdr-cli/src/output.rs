//! Writing results and messages. Results go to standard output, messages to standard error; a closed pipe
//! (`wsdr plan … | head`) is not an error.

use std::io::Write;

use serde::Serialize;

use crate::failure::Failure;

/// Writes `text` to standard output.
pub(crate) fn print(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes `value` as pretty JSON and a newline to standard output.
pub(crate) fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|error| Failure::Operations(format!("cannot render JSON: {error}")))?;
    print(&json);
    print("\n");
    Ok(())
}

/// Writes `message` to standard error, prefixed with `error: `.
pub(crate) fn error(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

/// Writes `message` to standard error, prefixed with `warning: `.
pub(crate) fn warn(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}
