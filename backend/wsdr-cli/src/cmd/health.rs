//! `wsdr health classify`: what the health function would decide for one event.

use wsdr_core::health::{Region, classify_slice};

use crate::cli::ClassifyArgs;
use crate::failure::Failure;
use crate::output;

pub(super) fn classify(args: &ClassifyArgs) -> Result<(), Failure> {
    let path = args.event.display();
    let primary = Region::parse(args.primary_region.trim())
        .map_err(|error| Failure::BadInput(format!("--primary-region: {error}")))?;
    let bytes = std::fs::read(&args.event)
        .map_err(|error| Failure::BadInput(format!("{path}: cannot read the event: {error}")))?;
    let classification = classify_slice(&bytes, &primary)
        .map_err(|error| Failure::BadInput(format!("{path}: {error}")))?;
    output::print_json(&classification)
}
