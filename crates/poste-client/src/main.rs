//! Entry point: parses the command line and hands over to the library.

fn main() -> std::process::ExitCode {
    poste_client::cli::main()
}
