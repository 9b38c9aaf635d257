//! Table rows as tables: a row's cells read back from its labelled text,
//! the compact Markdown lines several rows of one table render as, and the
//! words of a row's values (what rows of a table are compared by: they all
//! share the header's words).
//!
//! A row span's text labels each non-empty cell with its header ("Plan:
//! Pro | Price: 49"), so that a row read alone keeps its meaning; the
//! header span's text is the labels joined by " | ".

use crate::text::distinct_words;

/// The separator ingestion joins cells and labels with.
const SEP: &str = " | ";

/// The header labels of a table, from its header span's text.
pub fn labels(header_text: &str) -> Vec<&str> {
    header_text.split(SEP).collect()
}

/// The row's cell values in header order (empty where the row has none),
/// or `None` when the text does not read as labelled cells of these labels.
pub fn cells<'t>(labels: &[&str], row_text: &'t str) -> Option<Vec<&'t str>> {
    let mut out = vec![""; labels.len()];
    // Where the cell being read starts in `row_text`, and its label.
    let mut open: Option<(usize, usize)> = None;
    let mut next_label = 0;
    let mut pos = 0;
    let close = |out: &mut Vec<&'t str>, open: Option<(usize, usize)>, end: usize| {
        if let Some((label, start)) = open {
            out[label] = &row_text[start..end];
        }
    };
    while pos <= row_text.len() {
        let rest = &row_text[pos..];
        // A labelled cell starts here if a later label (cells may be empty
        // and skipped) is followed by ": ".
        let found = (next_label..labels.len()).find(|&l| {
            !labels[l].is_empty()
                && rest.starts_with(labels[l])
                && rest[labels[l].len()..].starts_with(": ")
        });
        if let Some(l) = found {
            let value_end = if pos == 0 { 0 } else { pos - SEP.len() };
            close(&mut out, open, value_end);
            open = Some((l, pos + labels[l].len() + 2));
            next_label = l + 1;
        } else if open.is_none() {
            return None;
        }
        // A separator inside a value stays part of it.
        match rest.find(SEP) {
            Some(at) => pos += at + SEP.len(),
            None => break,
        }
    }
    close(&mut out, open, row_text.len());
    Some(out)
}

/// A Markdown table cell: pipes escaped, line breaks flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The header lines of a compact table, the header's marker in the last
/// column (each row's marker sits there too: citations stay per row).
pub fn header_lines(labels: &[&str], marker: usize) -> String {
    let mut out = String::from("|");
    for l in labels {
        out.push_str(&format!(" {} |", cell(l)));
    }
    // The shortest delimiter row Markdown reads: spaced `---` cells cost
    // three tokens a column.
    out.push_str(&format!(" [{marker}] |\n|"));
    out.push_str(&"-|".repeat(labels.len() + 1));
    out.push('\n');
    out
}

/// One row of a compact table.
pub fn row_line(cells: &[&str], marker: usize) -> String {
    let mut out = String::from("|");
    for c in cells {
        out.push_str(&format!(" {} |", cell(c)));
    }
    out.push_str(&format!(" [{marker}] |\n"));
    out
}

/// The distinct words of a row's values, without its labels: two rows of
/// one table share every label word, which says nothing about whether
/// they say the same thing.
pub fn value_words(labels: &[&str], row_text: &str) -> Vec<u64> {
    match cells(labels, row_text) {
        Some(values) => distinct_words(&values.join(" ")),
        None => distinct_words(row_text),
    }
}

/// The row's key: its first non-empty value, lowercased (the entity the
/// row is about: a plan, a country, a function).
pub fn key(labels: &[&str], row_text: &str) -> Option<String> {
    let values = cells(labels, row_text)?;
    values
        .iter()
        .find(|v| !v.trim().is_empty())
        .map(|v| v.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_back_from_labelled_text() {
        let l = labels("Plan | Price | Notes");
        assert_eq!(
            cells(&l, "Plan: Pro | Price: 49 | Notes: a | b"),
            Some(vec!["Pro", "49", "a | b"])
        );
        // An empty cell is left out of the row text.
        assert_eq!(
            cells(&l, "Plan: Pro | Notes: x"),
            Some(vec!["Pro", "", "x"])
        );
        assert_eq!(cells(&l, "no labels here"), None);
        assert_eq!(key(&l, "Plan: Pro | Price: 49").as_deref(), Some("pro"));
    }

    #[test]
    fn compact_lines_escape_pipes() {
        let l = labels("A | B");
        assert_eq!(header_lines(&l, 1), "| A | B | [1] |\n|-|-|-|\n");
        assert_eq!(row_line(&["x|y", "2"], 2), "| x\\|y | 2 | [2] |\n");
    }

    #[test]
    fn rows_compare_by_values() {
        let l = labels("Plan | Uptime | Credit");
        let a = value_words(&l, "Plan: Team | Uptime: 99.9% | Credit: 5%");
        let b = value_words(&l, "Plan: Business | Uptime: 99.9% | Credit: 10%");
        let shared = crate::text::overlap(&a, &b);
        assert!(shared < 0.6, "{shared}");
    }
}
