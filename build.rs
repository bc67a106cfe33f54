//! Tells the tests what this machine cannot do, so a test that needs it is reported as
//! ignored, with the reason, instead of passing without running.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(not_root)");
    println!("cargo::rerun-if-changed=build.rs");
    // changing user needs root: tests/system.rs
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root {
        println!("cargo::rustc-cfg=not_root");
    }
}
