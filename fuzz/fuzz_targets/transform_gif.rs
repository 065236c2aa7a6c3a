#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| edge_fuzz::transform_as(
    edge_core::sniff::SourceFormat::Gif,
    data
));
