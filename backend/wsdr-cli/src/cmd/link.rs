//! `wsdr link`: the client launch URI for a user, validated and percent-encoded (for e-mails and tests).

use wsdr_protocol::{LaunchUri, LaunchUser, RegistrationTarget};

use crate::cli::LinkArgs;
use crate::failure::Failure;
use crate::output;

pub(super) fn run(args: &LinkArgs) -> Result<(), Failure> {
    let user = match &args.user {
        Some(user) => Some(
            LaunchUser::parse(user)
                .map_err(|error| Failure::BadInput(format!("--user: {error}")))?,
        ),
        None => None,
    };
    let target = RegistrationTarget::parse(&args.code)
        .map_err(|error| Failure::BadInput(format!("--code: {error}")))?;
    output::print(&format!("{}\n", LaunchUri::new(user, target)));
    Ok(())
}
