//! `wsdr`, the admin command line: parses arguments and hands them to [`wsdr_cli::run`].

fn main() -> std::process::ExitCode {
    wsdr_cli::run(std::env::args_os())
}
