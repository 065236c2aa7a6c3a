//! Links a maximum into the wasm memory, so the instance can never grow past what the
//! Lambda function has (Lambda@Edge has no NODE_OPTIONS to cap it from outside). The
//! full build runs in the origin-response function (1536 MB by default: 1024 MiB for
//! the wasm leaves room for Node, the AWS SDK and the input/output buffers); the
//! request-only build runs in the 128 MB viewer-request function and needs little.
//! Override with EDGE_SHIM_MAX_MEMORY_MIB (a build of its own: scripts/build hashes it).

fn main() {
    println!("cargo:rerun-if-env-changed=EDGE_SHIM_MAX_MEMORY_MIB");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("wasm32") {
        return;
    }
    let codecs = std::env::var_os("CARGO_FEATURE_CODECS").is_some();
    let mib: u64 = match std::env::var("EDGE_SHIM_MAX_MEMORY_MIB") {
        Ok(v) => v
            .parse()
            .expect("EDGE_SHIM_MAX_MEMORY_MIB must be a number of MiB"),
        Err(_) if codecs => 1024,
        Err(_) => 32,
    };
    // wasm-ld wants a multiple of the 64 KiB page.
    println!(
        "cargo:rustc-link-arg-cdylib=--max-memory={}",
        mib * 1024 * 1024
    );
}
