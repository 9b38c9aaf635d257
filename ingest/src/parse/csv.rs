//! CSV and TSV: the first record is the header, every other record a row
//! whose text carries the header ("Plan: Pro | Price: 49"), so a row read on
//! its own still says what its numbers mean.

use super::{Block, Parsed, RawRow};
use crate::mapped::MappedText;
use crate::IngestError;

/// Parses a delimited table. Ragged rows are kept (missing cells are empty,
/// extra cells unlabelled); a file the CSV reader cannot parse is an error.
pub fn parse(src: &str, delimiter: u8) -> Result<Parsed, IngestError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(src.as_bytes());
    let mut rows: Vec<RawRow> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let start = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(IngestError::Malformed {
                    format: "CSV",
                    detail: e.to_string(),
                })
            }
        }
        let end = usize::try_from(reader.position().byte())
            .unwrap_or(usize::MAX)
            .min(src.len());
        if start >= end || !src.is_char_boundary(start) || !src.is_char_boundary(end) {
            continue;
        }
        let cells = locate_cells(src, start..end, &record);
        if cells.iter().all(MappedText::is_empty) {
            continue;
        }
        let row_src = src[start..end].trim_end_matches(['\r', '\n']);
        rows.push(RawRow {
            range: start..start + row_src.len(),
            cells,
        });
    }
    if rows.is_empty() {
        return Ok(Parsed::default());
    }
    let header = rows.remove(0);
    let range = header.range.start..rows.last().map_or(header.range.end, |r| r.range.end);
    Ok(Parsed {
        title: None,
        blocks: vec![Block::Table {
            range,
            header: Some(header),
            rows,
        }],
    })
}

/// Finds each field's bytes in the record's source, in order. Quoted fields
/// (with `""` escapes) map to their whole quoted source range.
fn locate_cells(
    src: &str,
    range: std::ops::Range<usize>,
    record: &csv::StringRecord,
) -> Vec<MappedText> {
    let mut cursor = range.start;
    record
        .iter()
        .map(|field| {
            let mut text = MappedText::new();
            let hay = &src[cursor..range.end];
            if let Some(at) = hay.find(field).filter(|_| !field.is_empty()) {
                let start = cursor + at;
                text.push_source(src, start..start + field.len());
                cursor = start + field.len();
            } else if !field.is_empty() {
                // An escaped quote makes the field differ from its source.
                text.push_decoded(field, cursor..range.end);
            }
            text.collapse_whitespace()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_rows_with_ranges() {
        let src = "Plan,Price\nPro,49\n\"Big, Co\",\"99\"\n";
        let p = parse(src, b',').unwrap();
        let Block::Table { header, rows, .. } = &p.blocks[0] else {
            panic!("no table")
        };
        let h = header.as_ref().unwrap();
        assert_eq!(&src[h.range.clone()], "Plan,Price");
        assert_eq!(rows.len(), 2);
        assert_eq!(&src[rows[0].range.clone()], "Pro,49");
        assert_eq!(rows[1].cells[0].as_str(), "Big, Co");
        assert_eq!(
            &src[rows[1].cells[0].full_source_range().unwrap()],
            "Big, Co"
        );
    }

    #[test]
    fn ragged_rows_are_kept() {
        let p = parse("a,b\n1\n2,3,4\n", b',').unwrap();
        let Block::Table { rows, .. } = &p.blocks[0] else {
            panic!("no table")
        };
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].cells.len(), 3);
    }
}
