//! The `synack` command: see `synack --help` and the `cli` module.

fn main() -> std::process::ExitCode {
    synack_dissector::cli::main()
}
