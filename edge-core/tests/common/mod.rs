//! Shared by the integration tests: the corpus beside the repo and its MANIFEST.tsv.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");

/// Bytes of a corpus file given by its path relative to the corpus root.
pub fn read(file: &str) -> Vec<u8> {
    let path = format!("{CORPUS}/{file}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One row of MANIFEST.tsv (the columns the tests use).
pub struct Row {
    pub file: String,
    pub format: String,
    pub size: String,
    pub what: String,
}

pub fn manifest() -> Vec<Row> {
    let text = std::fs::read_to_string(format!("{CORPUS}/MANIFEST.tsv")).expect("MANIFEST.tsv");
    let rows: Vec<Row> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Row {
                file: cols[0].into(),
                format: cols[2].into(),
                size: cols[3].into(),
                what: cols[4].into(),
            }
        })
        .collect();
    assert!(rows.len() > 50, "manifest has only {} rows", rows.len());
    rows
}
