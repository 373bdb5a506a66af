//! The `yaowen` binary: everything lives in the library; see `cli`.

fn main() -> std::process::ExitCode {
    yaowen::cli::main()
}
