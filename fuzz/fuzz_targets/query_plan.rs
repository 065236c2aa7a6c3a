#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| edge_fuzz::query_plan(data));
