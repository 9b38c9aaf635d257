//! Tests of the HTML parser.

use super::parse;
use crate::mapped::MappedText;
use crate::parse::{Block, Parsed, RawRow, TextKind};
use proptest::prelude::*;
use std::ops::Range;

fn texts(p: &Parsed) -> Vec<(String, String)> {
    p.blocks
        .iter()
        .map(|b| match b {
            Block::Heading { level, text } => (format!("h{level}"), text.as_str().to_owned()),
            Block::Text { kind, text } => (format!("{kind:?}"), text.as_str().to_owned()),
            Block::Table { header, rows, .. } => {
                let row = |r: &RawRow| {
                    r.cells
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join("|")
                };
                let mut all: Vec<String> = header.iter().map(|h| format!("[{}]", row(h))).collect();
                all.extend(rows.iter().map(row));
                ("Table".to_owned(), all.join("\n"))
            }
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The invariants every parse must keep, whatever the input.
fn check_ranges(src: &str, parsed: &Parsed) {
    let ok = |r: &Range<usize>| {
        assert!(
            r.start <= r.end && r.end <= src.len(),
            "{r:?} out of {}",
            src.len()
        );
        assert!(
            src.is_char_boundary(r.start) && src.is_char_boundary(r.end),
            "{r:?}"
        );
    };
    let check_text = |t: &MappedText| {
        if let Some(r) = t.full_source_range() {
            ok(&r);
        }
        for (i, c) in t.as_str().char_indices() {
            if let Some(r) = t.source_range(i..i + c.len_utf8()) {
                ok(&r);
            }
        }
    };
    for block in &parsed.blocks {
        match block {
            Block::Heading { text, .. } | Block::Text { text, .. } => check_text(text),
            Block::Table {
                range,
                header,
                rows,
            } => {
                ok(range);
                for row in header.iter().chain(rows) {
                    ok(&row.range);
                    assert!(range.start <= row.range.start && row.range.end <= range.end);
                    row.cells.iter().for_each(check_text);
                }
            }
        }
    }
}

#[test]
fn headings_keep_their_levels() {
    let p = parse("<h1>One</h1><h3>Three <em>x</em></h3><H6 class=a>Six</H6>");
    assert_eq!(
        texts(&p),
        pairs(&[("h1", "One"), ("h3", "Three x"), ("h6", "Six")])
    );
}

#[test]
fn title_comes_from_head_only_once() {
    let p = parse(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title> A &amp;\n B </title>\
         <title>second</title><style>p{}</style></head><body><p>x</p></body></html>",
    );
    assert_eq!(p.title.as_deref(), Some("A & B"));
    assert_eq!(texts(&p), pairs(&[("Paragraph", "x")]));
}

#[test]
fn paragraph_decodes_entities_and_maps_back() {
    let src = "<div><p class=\"x\">Fish &amp; <b>chips</b>&nbsp;&#163;3 &#x263A; &bogus; &eacute;t&eacute;</p></div>";
    let p = parse(src);
    let Block::Text { kind, text } = &p.blocks[0] else {
        panic!("{:?}", p.blocks)
    };
    assert_eq!(*kind, TextKind::Paragraph);
    assert_eq!(text.as_str(), "Fish & chips £3 ☺ &bogus; été");
    let r = text.full_source_range().unwrap();
    assert!(src[r.clone()].starts_with("Fish &amp;"));
    assert!(src[r].ends_with("&eacute;t&eacute;"));
    // The decoded ampersand maps to its whole entity.
    assert_eq!(&src[text.source_range(5..6).unwrap()], "&amp;");
}

#[test]
fn lists_put_items_on_lines() {
    let p = parse(
        "<ul><li>one<li> two <b>2</b></li>\n<li>parent<ol start=3><li>a</li><li>b</li></ol></li></ul>\
         <dl><dt>term</dt><dd>meaning</dd></dl>",
    );
    assert_eq!(
        texts(&p),
        pairs(&[
            ("List", "- one\n- two 2\n- parent\n  3. a\n  4. b"),
            ("List", "- term\n  meaning"),
        ])
    );
    let Block::Text { text, .. } = &p.blocks[0] else {
        panic!()
    };
    let src_range = text.full_source_range().unwrap();
    assert_eq!(src_range.start, "<ul><li>".len());
}

#[test]
fn pre_keeps_whitespace() {
    let src = "<p>before</p><pre>\n  fn main() {\n      x &lt; <span>y</span>;\n  }\n</pre>";
    let p = parse(src);
    assert_eq!(
        texts(&p),
        pairs(&[
            ("Paragraph", "before"),
            ("Code", "  fn main() {\n      x < y;\n  }\n"),
        ])
    );
}

#[test]
fn table_header_rows_and_ranges() {
    let src = "<p>intro</p><table border=1><caption>Prices</caption>\
               <thead><tr><th>Plan</th><th>Price</th></tr></thead>\
               <tbody><tr class=a><td>Pro</td><td> 49 &euro;</td></tr>\n\
               <tr><td>Free<td>0</tbody></table>after";
    let p = parse(src);
    assert_eq!(
        texts(&p),
        pairs(&[
            ("Paragraph", "intro"),
            ("Paragraph", "Prices"),
            ("Table", "[Plan|Price]\nPro|49 €\nFree|0"),
            ("Paragraph", "after"),
        ])
    );
    let Block::Table {
        range,
        header,
        rows,
    } = &p.blocks[2]
    else {
        panic!()
    };
    assert!(src[range.clone()].starts_with("<table"));
    assert!(src[range.clone()].ends_with("</table>"));
    let header = header.as_ref().unwrap();
    assert_eq!(
        &src[header.range.clone()],
        "<tr><th>Plan</th><th>Price</th></tr>"
    );
    assert_eq!(
        &src[rows[0].range.clone()],
        "<tr class=a><td>Pro</td><td> 49 &euro;</td></tr>"
    );
    // Unclosed: runs to the end of its section.
    assert_eq!(&src[rows[1].range.clone()], "<tr><td>Free<td>0");
    check_ranges(src, &p);
}

#[test]
fn first_row_of_th_is_a_header_and_nested_tables_flatten() {
    let src = "<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td><table><tr><td>x</td><td>y</td></tr></table></td></tr></table>";
    let p = parse(src);
    assert_eq!(texts(&p), pairs(&[("Table", "[k|v]\na|x y")]));
    check_ranges(src, &p);
}

#[test]
fn empty_tables_emit_nothing() {
    let p = parse("<table><tr><td> </td></tr></table><table></table>");
    assert!(p.blocks.is_empty(), "{:?}", p.blocks);
}

#[test]
fn scripts_styles_and_navigation_are_dropped() {
    let p = parse(
        "<body><script>if (a < b) { document.write('<p>no</p>') }</script>\
         <style>p { color: red }</style><nav><a>Home</a></nav>\
         <div role=\"navigation\">menu</div><div class=\"navfooter x\">prev next</div>\
         <noscript>enable js</noscript><svg><title>icon</title><text>t</text></svg>\
         <header>Site</header><p>kept</p><footer>foot</footer></body>",
    );
    assert_eq!(p.title, None);
    assert_eq!(
        texts(&p),
        pairs(&[
            ("Paragraph", "Site"),
            ("Paragraph", "kept"),
            ("Paragraph", "foot")
        ])
    );
}

#[test]
fn unclosed_paragraphs_and_loose_text() {
    let p = parse("lead<p>one<p>two<br>lines<h2>H</h2>tail<div>in div<p>three");
    assert_eq!(
        texts(&p),
        pairs(&[
            ("Paragraph", "lead"),
            ("Paragraph", "one"),
            ("Paragraph", "two lines"),
            ("h2", "H"),
            ("Paragraph", "tail"),
            ("Paragraph", "in div"),
            ("Paragraph", "three"),
        ])
    );
}

#[test]
fn an_unclosed_heading_ends_at_the_next_paragraph() {
    let p = parse("<h2>Title<p>Body</p><p>More</p></h2><h3><div><p>Wrapped</p></div></h3>");
    assert_eq!(
        texts(&p),
        pairs(&[
            ("h2", "Title"),
            ("Paragraph", "Body"),
            ("Paragraph", "More"),
            ("h3", "Wrapped"),
        ])
    );
}

#[test]
fn inline_end_tags_do_not_split_blocks() {
    let p = parse("<b><p>x</b>y</p><p>a <i>b</p>c");
    assert_eq!(
        texts(&p),
        pairs(&[
            ("Paragraph", "xy"),
            ("Paragraph", "a b"),
            ("Paragraph", "c")
        ])
    );
}

#[test]
fn comments_cdata_and_stray_markup() {
    let p = parse(
        "<p>a<!-- <p>hidden</p> -->b<![CDATA[c]]><?php x ?> 1 < 2 & 3 </> <!x></p><p>z<!-- open",
    );
    assert_eq!(
        texts(&p),
        pairs(&[("Paragraph", "ab 1 < 2 & 3"), ("Paragraph", "z")])
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let depth = 60;
    let mut src = String::new();
    for _ in 0..depth {
        src.push_str("<div><section><ul><li>");
    }
    src.push_str("deep é");
    for _ in 0..depth {
        src.push_str("</li></ul></section></div>");
    }
    let p = parse(&src);
    assert_eq!(p.blocks.len(), 1);
    assert!(texts(&p)[0].1.ends_with("- deep é"));
    check_ranges(&src, &p);

    let huge = "<div>".repeat(100_000) + "x" + &"<ul><li>".repeat(50_000);
    let p = parse(&huge);
    check_ranges(&huge, &p);
}

#[test]
fn postgres_manual_snippet() {
    let src = r##"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" /><title>9.1. Logical Operators</title><link rel="stylesheet" type="text/css" href="stylesheet.css" /></head><body id="docContent" class="container-fluid col-10"><div class="navheader"><table width="100%" summary="Navigation header"><tr><th colspan="5" align="center">9.1. Logical Operators</th></tr><tr><td width="10%" align="left"><a accesskey="p" href="functions.html" title="Chapter 9. Functions and Operators">Prev</a> </td></tr></table><hr /></div><div class="sect1" id="FUNCTIONS-LOGICAL"><div class="titlepage"><div><div><h2 class="title" style="clear: both"><a id="FUNCTIONS-LOGICAL"></a>9.1. Logical Operators <a href="#FUNCTIONS-LOGICAL" class="id_link">#</a></h2></div></div></div><a id="id-1.5.8.7.2" class="indexterm"></a><p>
    The usual logical operators are available:

</p><div class="table" id="FUNCTIONS-LOGICAL-TABLE"><p class="title"><strong>Table 9.1. Logical Operators</strong></p><div class="table-contents"><table class="table" summary="Logical Operators" border="1"><colgroup><col /><col /></colgroup><thead><tr><th class="func_table_entry"><p class="func_signature">
        Operator
       </p>
       <p>
        Description
       </p></th></tr></thead><tbody><tr><td class="func_table_entry"><p class="func_signature">
        <code class="type">boolean</code> <code class="literal">AND</code> <code class="type">boolean</code>
        &#8594; <code class="returnvalue">boolean</code>
       </p>
       <p>
        Logical AND
       </p></td></tr></tbody></table></div></div><br class="table-break" /><pre class="programlisting">SELECT a &lt; b;
</pre></div><div class="navfooter"><hr /><table width="100%" summary="Navigation footer"><tr><td>Prev</td></tr></table></div></body></html>"##;
    let p = parse(src);
    assert_eq!(p.title.as_deref(), Some("9.1. Logical Operators"));
    assert_eq!(
        texts(&p),
        pairs(&[
            ("h2", "9.1. Logical Operators #"),
            ("Paragraph", "The usual logical operators are available:"),
            ("Paragraph", "Table 9.1. Logical Operators"),
            (
                "Table",
                "[Operator Description]\nboolean AND boolean → boolean Logical AND"
            ),
            ("Code", "SELECT a < b;\n"),
        ])
    );
    check_ranges(src, &p);
}

#[test]
fn garbage_edges() {
    for src in [
        "",
        "<",
        "<a",
        "<a href=\"x",
        "</",
        "</a",
        "<!--",
        "<!",
        "<?",
        "&",
        "&#",
        "&#x",
        "&#xZZ;",
        "&#99999999999;",
        "<p>é<",
        "<table><td>é",
        "<pre>",
        "<title>t",
        "<script>x",
        "é&amp",
        "<ul><li><table><tr><td>x</ul>",
        "<tr><td>a</td></tr>",
        "<td>orphan</td></div>",
    ] {
        let p = parse(src);
        check_ranges(src, &p);
    }
    assert_eq!(
        texts(&parse("&#0;&#150;&#x1F600;")),
        pairs(&[("Paragraph", "\u{FFFD}–😀")])
    );
}

fn html_soup() -> impl Strategy<Value = String> {
    let pieces = vec![
        "<p>",
        "</p>",
        "<h2>",
        "</h2>",
        "&amp;",
        "&#x41;",
        "&nbsp;",
        "<table>",
        "<tr>",
        "<td>",
        "<th>",
        "</td>",
        "</tr>",
        "</table>",
        "<thead>",
        "<ul>",
        "<li>",
        "</ul>",
        "<ol>",
        "<pre>",
        "</pre>",
        "\n",
        "<!--",
        "-->",
        "<",
        ">",
        "</",
        "é",
        "x",
        " ",
        "<br>",
        "<b>",
        "</b>",
        "<div class=navheader>",
        "</div>",
        "<div>",
        "<script>",
        "</script>",
        "<title>",
        "</title>",
        "<head>",
        "<caption>",
        "<dl><dt>",
        "<dd>",
        "&",
        "#",
        ";",
        "\"",
        "'",
        "=",
        "<a href='",
        "/>",
        "<![CDATA[",
        "]]>",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..80).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn arbitrary_strings_keep_ranges_valid(src in any::<String>()) {
        let p = parse(&src);
        check_ranges(&src, &p);
    }

    #[test]
    fn html_soup_keeps_ranges_valid(src in html_soup()) {
        let p = parse(&src);
        check_ranges(&src, &p);
    }
}
