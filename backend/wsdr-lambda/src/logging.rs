//! Logs as one JSON object per line, in the shape Lambda's advanced logging controls filter on and CloudWatch Logs
//! Insights reads: `{"timestamp": RFC 3339, "level": "INFO", "target": .., "message": .., <fields>}`.
//!
//! - The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda sets it from the function's `ApplicationLogLevel`), else
//!   `RUST_LOG`, else `INFO` — the order of `lambda_runtime::tracing::init_default_subscriber`, whose lines we
//!   cannot use as they are: they carry no timestamp (Lambda then files every line as INFO, so `LogLevel=WARN`
//!   would drop the errors) and nest the message under `fields`.
//! - Every line has exactly one `message`: an event's own field called `message` (`error!(%message, "...")`) is
//!   written as `detail`.
//! - Metric lines (EMF, [`metrics`]) bypass the filter here and carry [`METRICS_LEVEL`], which no application log
//!   level of Lambda filters out.

use std::fmt;
use std::io::Write;

use jiff::Timestamp;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use wsdr_aws::clock::{Clock, SystemClock};

/// The level written on EMF lines: Lambda's most severe application level, kept by every `ApplicationLogLevel`
/// (a line without a level, or without a valid timestamp, is filed as INFO and dropped at WARN or ERROR).
pub const METRICS_LEVEL: &str = "FATAL";

/// Installs the JSON subscriber on standard output, filtered as [`filter_directive`] says for the process's
/// environment.
pub fn init() {
    let directive = filter_directive(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    );
    subscriber(&directive, std::io::stdout, || SystemClock.now()).init();
}

/// The subscriber [`init`] installs, with any writer and clock (tests).
pub fn subscriber<W>(
    directive: &str,
    writer: W,
    now: fn() -> Timestamp,
) -> impl Subscriber + Send + Sync + 'static + Into<tracing::Dispatch>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .event_format(LambdaJson { now })
        .with_env_filter(tracing_subscriber::EnvFilter::builder().parse_lossy(directive))
        .with_writer(writer)
        .finish()
}

/// The `EnvFilter` directive: Lambda's level when set (its `FATAL`, which `tracing` lacks, is `error`), else
/// `RUST_LOG` as it is, else `info`.
pub fn filter_directive(aws_lambda_log_level: Option<&str>, rust_log: Option<&str>) -> String {
    fn set(value: Option<&str>) -> Option<&str> {
        value.map(str::trim).filter(|value| !value.is_empty())
    }
    match set(aws_lambda_log_level) {
        Some(level) if level.eq_ignore_ascii_case("fatal") => "error".to_owned(),
        Some(level) => level.to_ascii_lowercase(),
        None => set(rust_log).unwrap_or("info").to_owned(),
    }
}

/// Writes an EMF document as one metric line on standard output, whatever the log level.
pub fn metrics(document: &Value) {
    let line = metrics_line(document, SystemClock.now());
    let mut out = std::io::stdout().lock();
    // A failed write to stdout has nowhere to be reported.
    let _ = writeln!(out, "{line}");
}

/// The EMF document with the `level` and `timestamp` Lambda's filter reads added beside its `_aws` metadata.
pub fn metrics_line(document: &Value, now: Timestamp) -> String {
    let mut line = match document {
        Value::Object(map) => map.clone(),
        other => {
            let mut map = Map::new();
            map.insert("value".to_owned(), other.clone());
            map
        }
    };
    line.insert("timestamp".to_owned(), Value::String(now.to_string()));
    line.insert("level".to_owned(), Value::String(METRICS_LEVEL.to_owned()));
    Value::Object(line).to_string()
}

/// The line format.
struct LambdaJson {
    now: fn() -> Timestamp,
}

impl<S, N> FormatEvent<S, N> for LambdaJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = Map::new();
        line.insert("timestamp".to_owned(), Value::String((self.now)().to_string()));
        line.insert("level".to_owned(), Value::String(metadata.level().as_str().to_owned()));
        line.insert("target".to_owned(), Value::String(metadata.target().to_owned()));
        line.insert("message".to_owned(), Value::String(fields.message.unwrap_or_default()));
        for (name, value) in fields.other {
            // Fields never overwrite the four keys above.
            line.entry(name).or_insert(value);
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// An event's fields: the first `message` is the event's text (`tracing` records the macro's format string
/// first); a later field named `message` becomes `detail`.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    other: Vec<(String, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            let text = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            if self.message.is_none() {
                self.message = Some(text);
            } else {
                self.other.push(("detail".to_owned(), Value::String(text)));
            }
        } else {
            self.other.push((field.name().to_owned(), value));
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use super::*;

    fn at() -> Timestamp {
        "2026-03-01T10:00:00.5Z".parse().unwrap()
    }

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    /// The lines the subscriber for `directive` writes while `log` runs, each parsed, with its duplicate-key
    /// count checked (serde_json keeps only the last of two equal keys).
    fn lines(directive: &str, log: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(subscriber(directive, buffer.clone(), at), log);
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| {
                assert_eq!(line.matches("\"message\":").count(), 1, "{line}");
                serde_json::from_str(line).unwrap()
            })
            .collect()
    }

    #[test]
    fn lambda_log_level_wins_over_rust_log_and_defaults_to_info() {
        assert_eq!(filter_directive(Some("WARN"), Some("debug")), "warn");
        assert_eq!(filter_directive(Some("FATAL"), None), "error");
        assert_eq!(filter_directive(Some(" "), Some("wsdr=debug")), "wsdr=debug");
        assert_eq!(filter_directive(None, None), "info");
    }

    #[test]
    fn each_line_has_one_message_a_level_and_an_rfc3339_timestamp() {
        let message = "unexpected field `dryrun`".to_owned();
        let got = lines("info", || {
            tracing::error!(%message, "refused event");
            tracing::info!(created = 4, "reconciled");
            tracing::debug!("not at info");
        });
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0]["message"], "refused event");
        assert_eq!(got[0]["detail"], "unexpected field `dryrun`");
        assert_eq!(got[0]["level"], "ERROR");
        assert_eq!(got[1]["level"], "INFO");
        assert_eq!(got[1]["created"], 4);
        for line in &got {
            let stamp = line["timestamp"].as_str().unwrap();
            assert_eq!(stamp.parse::<Timestamp>().unwrap(), at(), "{stamp}");
        }
    }

    #[test]
    fn at_warn_errors_are_kept_and_info_is_not() {
        let directive = filter_directive(Some("WARN"), None);
        let got = lines(&directive, || {
            tracing::info!("hidden");
            tracing::error!(error = "boom", "could not alert the admins");
        });
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0]["level"].as_str(), got[0]["error"].as_str()),
            (Some("ERROR"), Some("boom"))
        );
    }

    #[test]
    fn metric_lines_carry_a_level_no_filter_drops_and_keep_their_emf_metadata() {
        let document = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "Readiness": 100});
        let line: Value = serde_json::from_str(&metrics_line(&document, at())).unwrap();
        assert_eq!(line["level"], METRICS_LEVEL);
        assert_eq!(line["timestamp"].as_str().unwrap().parse::<Timestamp>().unwrap(), at());
        assert_eq!(
            (&line["_aws"], &line["Readiness"]),
            (&document["_aws"], &document["Readiness"])
        );
        // Lambda's application levels, least to most severe: the metric level is the last.
        let levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
        assert_eq!(levels.last(), Some(&METRICS_LEVEL));
    }
}
