//! Gives the shared library its SONAME, `libsynack.so.<ABI version>`, so a
//! program linked against it refuses a library of another ABI version.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        // Keep in step with SYNACK_ABI_VERSION in src/types.rs (a test checks).
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsynack.so.1");
    }
}
