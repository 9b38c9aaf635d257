//! Tables: collects a top-level table into header and rows.

use crate::mapped::MappedText;
use crate::parse::{Block, RawRow, TextKind};

/// A top-level table being collected.
pub(super) struct TableState {
    start: usize,
    /// Depth of tables nested in this one's cells (flattened into the cell).
    pub(super) nested: usize,
    header: Option<RawRow>,
    rows: Vec<RawRow>,
    row: Option<RowState>,
    cell: Option<MappedText>,
    pub(super) in_head_section: bool,
    pub(super) in_caption: bool,
    caption: MappedText,
    /// Stray text outside cells; browsers show it before the table.
    foster: MappedText,
}

struct RowState {
    start: usize,
    cells: Vec<MappedText>,
    all_th: bool,
    in_head: bool,
}

impl TableState {
    pub(super) fn new(start: usize) -> Self {
        Self {
            start,
            nested: 0,
            header: None,
            rows: Vec::new(),
            row: None,
            cell: None,
            in_head_section: false,
            in_caption: false,
            caption: MappedText::new(),
            foster: MappedText::new(),
        }
    }

    pub(super) fn sink(&mut self) -> &mut MappedText {
        match (self.in_caption, &mut self.cell) {
            (true, _) => &mut self.caption,
            (false, Some(cell)) => cell,
            (false, None) => &mut self.foster,
        }
    }

    pub(super) fn start_section(&mut self, head: bool, at: usize) {
        self.finish_row(at);
        self.in_head_section = head;
    }

    pub(super) fn start_row(&mut self, at: usize) {
        self.finish_row(at);
        self.row = Some(RowState {
            start: at,
            cells: Vec::new(),
            all_th: true,
            in_head: self.in_head_section,
        });
    }

    /// Starts a cell; a cell outside any `<tr>` starts a row of its own.
    pub(super) fn start_cell(&mut self, th: bool, at: usize) {
        self.finish_cell();
        if self.row.is_none() {
            self.start_row(at);
        }
        if let Some(row) = self.row.as_mut() {
            row.all_th &= th;
        }
        self.cell = Some(MappedText::new());
    }

    pub(super) fn finish_cell(&mut self) {
        if let Some(cell) = self.cell.take() {
            if let Some(row) = self.row.as_mut() {
                row.cells.push(cell.collapse_whitespace());
            }
        }
    }

    /// Ends the current row at `end`. Rows without text are layout noise.
    pub(super) fn finish_row(&mut self, end: usize) {
        self.finish_cell();
        let Some(row) = self.row.take() else {
            return;
        };
        if row.cells.iter().all(MappedText::is_empty) {
            return;
        }
        let is_header =
            self.header.is_none() && (row.in_head || (row.all_th && self.rows.is_empty()));
        let raw = RawRow {
            range: row.start..end.max(row.start),
            cells: row.cells,
        };
        if is_header {
            self.header = Some(raw);
        } else {
            self.rows.push(raw);
        }
    }

    /// Emits the caption and stray text as paragraphs, then the table.
    pub(super) fn emit(mut self, end: usize, blocks: &mut Vec<Block>) {
        self.finish_row(end);
        for text in [&self.caption, &self.foster] {
            let text = text.collapse_whitespace();
            if !text.is_empty() {
                blocks.push(Block::Text {
                    kind: TextKind::Paragraph,
                    text,
                });
            }
        }
        if self.header.is_some() || !self.rows.is_empty() {
            blocks.push(Block::Table {
                range: self.start..end.max(self.start),
                header: self.header,
                rows: self.rows,
            });
        }
    }
}
