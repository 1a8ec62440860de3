//! The committed header, `include/synack.h`, is what cbindgen makes of the
//! crate now: regenerated here and compared byte for byte. Run with
//! `SYNACK_BLESS=1` to rewrite it after changing the ABI.

use std::path::Path;

fn generate() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        // The plugin ABI's types, which the dissector's plugin host defines.
        .with_src(dir.join("../dissector/src/plugin_host.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    out
}

#[test]
fn header_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/synack.h");
    let fresh = generate();
    if std::env::var_os("SYNACK_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/synack.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed != fresh {
        let first = committed
            .split(|&b| b == b'\n')
            .zip(fresh.split(|&b| b == b'\n'))
            .position(|(a, b)| a != b)
            .map_or(0, |i| i + 1);
        panic!(
            "capi/include/synack.h is stale (first difference at line {first}): regenerate it with \
             `SYNACK_BLESS=1 cargo test -p synack-capi --test header` and commit it"
        );
    }
}

#[test]
fn soname_carries_the_abi_version() {
    let build = include_str!("../build.rs");
    let soname = format!("-soname,libsynack.so.{}", synack::types::SYNACK_ABI_VERSION);
    assert!(build.contains(&soname), "build.rs must set {soname}");
    let header = String::from_utf8(generate()).unwrap();
    assert!(header.contains(&format!(
        "#define SYNACK_ABI_VERSION {}",
        synack::types::SYNACK_ABI_VERSION
    )));
}

/// Runs `cmd`, panicking with its output when it fails; its standard output.
fn run_ok(cmd: &mut std::process::Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn header_compiles_as_c99_c11_and_cpp() {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let dir = std::env::temp_dir().join(format!("synack-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("h.c");
    std::fs::write(&src, "#include \"synack.h\"\nint synack_header_check;\n").unwrap();
    let strict = [
        "-Wall",
        "-Wextra",
        "-pedantic",
        "-Werror",
        "-fsyntax-only",
        "-I",
    ];
    for std in ["-std=c99", "-std=c11"] {
        run_ok(
            std::process::Command::new("gcc")
                .arg(std)
                .args(strict)
                .arg(&include)
                .arg(&src),
        );
    }
    // scripts/test.sh installs g++ for this check.
    run_ok(
        std::process::Command::new("g++")
            .args(["-std=c++11", "-x", "c++"])
            .args(strict)
            .arg(&include)
            .arg(&src),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn struct_layouts_match_c() {
    use std::mem::{align_of, size_of};
    use synack::plugin_host::{synack_label_sink, synack_plugin_descriptor};
    use synack::types::*;
    macro_rules! layouts {
        ($($t:ident),*) => {
            (
                vec![$(format!("{} {} {}", stringify!($t), size_of::<$t>(), align_of::<$t>())),*],
                [$(format!("printf(\"{} %zu %zu\\n\", sizeof({}), _Alignof({}));", stringify!($t), stringify!($t), stringify!($t))),*].join("\n")
            )
        };
    }
    let (rust, c_body) = layouts!(
        synack_endpoint,
        synack_tcp_header,
        synack_tcp_options_iter,
        synack_sack_block,
        synack_tcp_option,
        synack_frame,
        synack_side_options,
        synack_facts,
        synack_annotation,
        synack_label,
        synack_verdict,
        synack_packet,
        synack_tracker_config,
        synack_label_sink,
        synack_plugin_descriptor,
        synack_role,
        synack_status
    );
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let dir = std::env::temp_dir().join(format!("synack-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    std::fs::write(
        &src,
        format!("#include <stdio.h>\n#include \"synack.h\"\nint main(void) {{\n{c_body}\nreturn 0;\n}}\n"),
    )
    .unwrap();
    let exe = dir.join("layout");
    run_ok(
        std::process::Command::new("gcc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
            .arg(&include)
            .arg(&src)
            .arg("-o")
            .arg(&exe),
    );
    let c = run_ok(&mut std::process::Command::new(&exe));
    assert_eq!(
        c.lines().collect::<Vec<_>>(),
        rust,
        "sizes and alignments, C vs Rust"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
