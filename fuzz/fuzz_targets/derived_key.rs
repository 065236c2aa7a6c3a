#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| edge_fuzz::derived_key(data));
