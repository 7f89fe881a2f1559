//! Reading the functions' configuration from environment variables, naming every bad or missing one.

use std::str::FromStr;

/// A missing or unreadable environment variable.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// Required and absent (or empty).
    #[error("environment variable {name} is not set")]
    Missing {
        /// The variable.
        name: &'static str,
    },
    /// Present and wrong.
    #[error("environment variable {name}={value:?}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The value of `name`, if set and not empty.
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// The value of `name`.
pub fn required(name: &'static str) -> Result<String, EnvError> {
    optional(name).ok_or(EnvError::Missing { name })
}

/// The value of `name` parsed, or `default` when unset.
pub fn parsed_or<T>(name: &'static str, default: T) -> Result<T, EnvError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|error: T::Err| EnvError::Invalid {
            name,
            reason: error.to_string(),
            value,
        }),
    }
}
