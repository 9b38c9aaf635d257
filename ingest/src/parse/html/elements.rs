//! Element classes: how each tag name is treated.

pub(super) fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Elements that end the running paragraph (or put a space between texts
/// inside a heading, item or cell).
pub(super) fn is_block(name: &str) -> bool {
    heading_level(name).is_some()
        || matches!(
            name,
            "p" | "div"
                | "section"
                | "article"
                | "main"
                | "aside"
                | "header"
                | "footer"
                | "nav"
                | "blockquote"
                | "hgroup"
                | "ul"
                | "ol"
                | "dl"
                | "dt"
                | "dd"
                | "li"
                | "menu"
                | "table"
                | "caption"
                | "thead"
                | "tbody"
                | "tfoot"
                | "tr"
                | "td"
                | "th"
                | "pre"
                | "listing"
                | "xmp"
                | "plaintext"
                | "hr"
                | "figure"
                | "figcaption"
                | "form"
                | "fieldset"
                | "legend"
                | "address"
                | "details"
                | "summary"
                | "center"
                | "dialog"
                | "search"
                | "body"
                | "html"
        )
}

/// Elements dropped with their content: code, styling, chrome and widgets.
pub(super) fn is_dropped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "nav"
            | "iframe"
            | "noembed"
            | "noframes"
            | "textarea"
            | "select"
            | "object"
            | "canvas"
            | "audio"
            | "video"
    )
}

/// Elements whose content the tokenizer must not read as markup.
pub(super) fn is_raw_text(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "title"
            | "textarea"
            | "xmp"
            | "iframe"
            | "noembed"
            | "noframes"
            | "noscript"
    )
}

pub(super) fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "basefont"
            | "bgsound"
            | "br"
            | "col"
            | "embed"
            | "frame"
            | "hr"
            | "img"
            | "input"
            | "keygen"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// Elements allowed in `<head>`; any other start tag ends it.
pub(super) fn is_head_content(name: &str) -> bool {
    matches!(
        name,
        "head"
            | "title"
            | "meta"
            | "link"
            | "style"
            | "script"
            | "base"
            | "noscript"
            | "template"
            | "basefont"
            | "bgsound"
    )
}

/// Elements generic end tags cannot close past (HTML's "scope").
pub(super) fn is_scope(name: &str) -> bool {
    matches!(name, "table" | "td" | "th" | "caption")
}

/// Blocks that end a heading which already has text (see `close_implied`).
pub(super) fn ends_heading(name: &str) -> bool {
    is_list(name) || matches!(name, "p" | "pre" | "table" | "blockquote" | "hr")
}

pub(super) fn is_list(name: &str) -> bool {
    matches!(name, "ul" | "ol" | "dl" | "menu")
}

pub(super) fn is_table_part(name: &str) -> bool {
    matches!(
        name,
        "tr" | "td" | "th" | "thead" | "tbody" | "tfoot" | "caption"
    )
}
