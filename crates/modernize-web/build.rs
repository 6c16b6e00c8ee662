//! Chooses the folder `rust-embed` embeds: `web/dist` when the UI has been built
//! (`npm --prefix web ci && npm --prefix web run build`, which `scripts/test` and `scripts/demo`
//! do before cargo), otherwise a one-page placeholder saying how to build it, so that a Rust-only
//! build (no Node.js) still compiles and serves something true.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    println!("cargo::rustc-check-cfg=cfg(web_built)");
    let folder = if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
        println!("cargo:rustc-cfg=web_built");
        dist
    } else {
        // Watch the whole web/ folder: a later `npm run build` creates dist/ inside it.
        println!("cargo:rerun-if-changed={}", web.display());
        let placeholder = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("web-placeholder");
        fs::create_dir_all(&placeholder).expect("OUT_DIR is writable");
        fs::write(placeholder.join("index.html"), PLACEHOLDER).expect("OUT_DIR is writable");
        placeholder
    };
    println!("cargo:rustc-env=MODERNIZE_WEB_DIST={}", folder.display());
}

const PLACEHOLDER: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Modernize</title></head>\n<body><main><h1>Modernize</h1><p>This binary was built without the web UI. Build it with\n<code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code>, then rebuild <code>modernize</code>\n(<code>./scripts/demo</code> does both). The API is served under <code>/api/v1</code>.</p></main></body></html>\n";
