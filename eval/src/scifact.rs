//! The SciFact test set, built from the CSV export the way BEIR builds it.
//!
//! The zip holds `corpus_train.csv` (the 5,183 abstracts) and
//! `claims_validation.csv` (BEIR's *test* queries). BEIR's construction:
//! queries are the distinct `(id, claim)` pairs, qrels are every
//! `(claim id, cited doc id)` with relevance 1, and a document's text is its
//! title plus its abstract sentences. We keep the title apart and the sentences
//! as a list, because compression checks need sentence indexes (rationales).
//!
//! The list columns were written by pandas from numpy arrays, so they look like
//! `['First.'\n 'Second.']` and `[2 5]`: elements separated by whitespace, not
//! commas. The parser here accepts both that and Python's comma form.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::EvalError;

const CORPUS_MEMBER: &str = "corpus_train.csv";
const CLAIMS_MEMBER: &str = "claims_validation.csv";
const TRAIN_CLAIMS_MEMBER: &str = "claims_train.csv";

/// The document collection, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    /// Documents in the order of `corpus_train.csv`.
    pub docs: Vec<CorpusDoc>,
}

/// One abstract.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusDoc {
    /// SciFact `doc_id`, as written in the CSV.
    pub id: String,
    /// Paper title.
    pub title: String,
    /// Abstract sentences, verbatim; rationale indexes point into this list.
    pub sentences: Vec<String>,
}

/// One test claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Claim id, as written in the CSV.
    pub id: String,
    /// The claim text.
    pub text: String,
}

/// Relevance judgements: query id → (doc id → relevance).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Qrels(pub BTreeMap<String, BTreeMap<String, u32>>);

impl Qrels {
    /// Number of judged (query, document) pairs.
    pub fn pair_count(&self) -> usize {
        self.0.values().map(BTreeMap::len).sum()
    }
}

/// Sentence-level evidence: query id → list of `(doc id, sentence indexes)`.
///
/// Each entry is one rationale (one CSV row): a set of sentences that together
/// support or contradict the claim. A document can appear in several entries
/// when the annotators gave it several alternative rationales; keeping them
/// apart lets a check ask "is at least one whole rationale kept?".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rationales(pub BTreeMap<String, Vec<(String, Vec<usize>)>>);

/// The SciFact test set: corpus, queries, qrels and rationales.
#[derive(Debug, Clone, PartialEq)]
pub struct SciFact {
    /// The 5,183 abstracts.
    pub corpus: Corpus,
    /// The 300 test claims, sorted by numeric id.
    pub queries: Vec<Query>,
    /// The 339 (claim, cited document) pairs, relevance 1.
    pub qrels: Qrels,
    /// Evidence sentences, for the claims that have them.
    pub rationales: Rationales,
}

#[derive(Deserialize)]
struct CorpusRow {
    doc_id: String,
    title: String,
    #[serde(rename = "abstract")]
    abstract_: String,
}

#[derive(Deserialize)]
struct ClaimRow {
    id: String,
    claim: String,
    evidence_doc_id: String,
    evidence_sentences: String,
    cited_doc_ids: String,
}

/// Loads the SciFact test set from the CSV export zip at `zip_path`.
///
/// Besides parsing, it checks the cross-references (doc ids unique, every
/// cited and evidence doc in the corpus, sentence indexes in range): a broken
/// reference would otherwise silently lower every score.
pub fn load(zip_path: &Path) -> Result<SciFact, EvalError> {
    load_claims(zip_path, CLAIMS_MEMBER)
}

/// Loads the SciFact training claims (`claims_train.csv`, never used for
/// evaluation) with the same corpus and checks: for training the ranker.
pub fn load_train(zip_path: &Path) -> Result<SciFact, EvalError> {
    load_claims(zip_path, TRAIN_CLAIMS_MEMBER)
}

fn load_claims(zip_path: &Path, claims_member: &str) -> Result<SciFact, EvalError> {
    let file = File::open(zip_path).map_err(|source| EvalError::Io {
        path: zip_path.to_path_buf(),
        source,
    })?;
    let zip_err = |source| EvalError::Zip {
        path: zip_path.to_path_buf(),
        source,
    };
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(zip_err)?;
    let corpus_bytes = read_member(&mut archive, zip_path, CORPUS_MEMBER)?;
    let claims_bytes = read_member(&mut archive, zip_path, claims_member)?;

    let corpus_file = format!("{}:{CORPUS_MEMBER}", zip_path.display());
    let claims_file = format!("{}:{claims_member}", zip_path.display());
    let corpus = parse_corpus(&corpus_bytes, &corpus_file)?;
    let (queries, qrels, rationales) = parse_claims(&claims_bytes, &claims_file, &corpus)?;
    Ok(SciFact {
        corpus,
        queries,
        qrels,
        rationales,
    })
}

/// Reads the one member whose file name is `name`, wherever it sits in the
/// archive's folders (exports differ on whether they add a top folder).
fn read_member<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    zip_path: &Path,
    name: &str,
) -> Result<Vec<u8>, EvalError> {
    let matches: Vec<String> = archive
        .file_names()
        .filter(|n| {
            *n == name || n.ends_with(&format!("/{name}")) || n.ends_with(&format!("\\{name}"))
        })
        .map(str::to_owned)
        .collect();
    let member = match matches.as_slice() {
        [one] => one,
        [] => {
            return Err(EvalError::MissingMember {
                path: zip_path.to_path_buf(),
                name: name.to_owned(),
            })
        }
        many => {
            return Err(EvalError::Format {
                what: zip_path.display().to_string(),
                detail: format!("several members named {name}: {}", many.join(", ")),
            })
        }
    };
    let mut entry = archive.by_name(member).map_err(|source| EvalError::Zip {
        path: zip_path.to_path_buf(),
        source,
    })?;
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(|source| EvalError::Io {
            path: PathBuf::from(format!("{}:{member}", zip_path.display())),
            source,
        })?;
    Ok(bytes)
}

fn parse_corpus(bytes: &[u8], file: &str) -> Result<Corpus, EvalError> {
    let csv_err = |source| EvalError::Csv {
        file: file.to_owned(),
        source,
    };
    let mut reader = csv::Reader::from_reader(bytes);
    let mut docs = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, row) in reader.deserialize::<CorpusRow>().enumerate() {
        let row = row.map_err(csv_err)?;
        // Data row i is line i + 2 of the file (header is line 1), assuming no
        // embedded newlines; the CSV error itself carries exact positions.
        let where_ = |field: &str| format!("{file} row {} (doc {}) {field}", i + 1, row.doc_id);
        let id = row.doc_id.trim().to_owned();
        if id.is_empty() {
            return Err(format_err(where_("doc_id"), "empty doc id"));
        }
        if let Some(first) = seen.insert(id.clone(), i + 1) {
            return Err(format_err(
                where_("doc_id"),
                format!("duplicate doc id, first seen in row {first}"),
            ));
        }
        let sentences =
            parse_str_list(&row.abstract_).map_err(|e| format_err(where_("abstract"), e))?;
        docs.push(CorpusDoc {
            id,
            title: row.title,
            sentences,
        });
    }
    Ok(Corpus { docs })
}

type ClaimsParts = (Vec<Query>, Qrels, Rationales);

fn parse_claims(bytes: &[u8], file: &str, corpus: &Corpus) -> Result<ClaimsParts, EvalError> {
    let csv_err = |source| EvalError::Csv {
        file: file.to_owned(),
        source,
    };
    let sentence_counts: HashMap<&str, usize> = corpus
        .docs
        .iter()
        .map(|d| (d.id.as_str(), d.sentences.len()))
        .collect();

    // Keyed by numeric id so that iteration gives the documented order.
    let mut queries: BTreeMap<u64, Query> = BTreeMap::new();
    let mut qrels = Qrels::default();
    let mut rationales = Rationales::default();
    let mut reader = csv::Reader::from_reader(bytes);
    for (i, row) in reader.deserialize::<ClaimRow>().enumerate() {
        let row = row.map_err(csv_err)?;
        let where_ = |field: &str| format!("{file} row {} (claim {}) {field}", i + 1, row.id);
        let id = row.id.trim().to_owned();
        let num: u64 = id
            .parse()
            .map_err(|_| format_err(where_("id"), format!("not a number: {id:?}")))?;

        // A claim spans one row per evidence document; all rows must agree.
        match queries.get(&num) {
            Some(q) if q.id != id || q.text != row.claim => {
                return Err(format_err(
                    where_("claim"),
                    "same numeric id as an earlier row with a different id or claim text",
                ))
            }
            Some(_) => {}
            None => {
                queries.insert(
                    num,
                    Query {
                        id: id.clone(),
                        text: row.claim.clone(),
                    },
                );
            }
        }

        let cited = parse_int_list(&row.cited_doc_ids)
            .map_err(|e| format_err(where_("cited_doc_ids"), e))?;
        for doc in cited {
            let doc = doc.to_string();
            if !sentence_counts.contains_key(doc.as_str()) {
                return Err(format_err(
                    where_("cited_doc_ids"),
                    format!("doc {doc} is not in the corpus"),
                ));
            }
            // A BTreeMap dedupes repeated citations (the data has `[7662395 7662395]`).
            qrels.0.entry(id.clone()).or_default().insert(doc, 1);
        }

        let sentences = parse_int_list(&row.evidence_sentences)
            .map_err(|e| format_err(where_("evidence_sentences"), e))?;
        let evidence_doc = row.evidence_doc_id.trim();
        if evidence_doc.is_empty() {
            if !sentences.is_empty() {
                return Err(format_err(
                    where_("evidence_sentences"),
                    "sentence indexes without an evidence_doc_id",
                ));
            }
            continue;
        }
        // Normalise through a number so that " 123" and "123" agree with the corpus ids.
        let doc = evidence_doc
            .parse::<u64>()
            .map_err(|_| {
                format_err(
                    where_("evidence_doc_id"),
                    format!("not a number: {evidence_doc:?}"),
                )
            })?
            .to_string();
        let Some(&n_sentences) = sentence_counts.get(doc.as_str()) else {
            return Err(format_err(
                where_("evidence_doc_id"),
                format!("doc {doc} is not in the corpus"),
            ));
        };
        let mut idxs = Vec::with_capacity(sentences.len());
        for s in sentences {
            let idx = usize::try_from(s)
                .ok()
                .filter(|&x| x < n_sentences)
                .ok_or_else(|| {
                    format_err(
                        where_("evidence_sentences"),
                        format!("sentence {s} out of range: doc {doc} has {n_sentences}"),
                    )
                })?;
            idxs.push(idx);
        }
        // A rationale without sentences carries nothing to check; skip it so
        // that "has rationales" means "has evidence sentences".
        if !idxs.is_empty() {
            rationales.0.entry(id).or_default().push((doc, idxs));
        }
    }
    Ok((queries.into_values().collect(), qrels, rationales))
}

impl SciFact {
    /// The abstracts by doc id.
    pub fn docs_by_id(&self) -> std::collections::HashMap<&str, &CorpusDoc> {
        self.corpus
            .docs
            .iter()
            .map(|d| (d.id.as_str(), d))
            .collect()
    }

    /// Writes the corpus as JSON Lines, one `{"id", "title", "text"}` object per
    /// document with the sentences joined by a space (BEIR's doc text).
    ///
    pub fn write_jsonl(&self, path: &Path) -> Result<(), EvalError> {
        let texts: Vec<String> = self
            .corpus
            .docs
            .iter()
            .map(|d| d.sentences.join(" "))
            .collect();
        crate::jsonl::write_records(
            path,
            self.corpus
                .docs
                .iter()
                .zip(&texts)
                .map(|(d, text)| crate::jsonl::Record {
                    id: &d.id,
                    title: &d.title,
                    text,
                }),
        )
    }
}

fn format_err(what: String, detail: impl Into<String>) -> EvalError {
    EvalError::Format {
        what,
        detail: detail.into(),
    }
}

// ---------------------------------------------------------------------------
// Python / numpy list literals.

/// A byte cursor over the literal being parsed; positions in errors are byte
/// offsets so they can be found in the raw field.
struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Skips whitespace; reports whether there was any.
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        self.pos > start
    }

    fn err(&self, msg: impl std::fmt::Display) -> String {
        format!("at byte {}: {msg}", self.pos)
    }
}

/// Parses `[item, item]` or numpy's `[item item]` (whitespace, a comma, or
/// both between items; a trailing comma allowed), calling `item` for each.
///
/// Two literals with no separator at all (`'a''b'`) are rejected: Python would
/// concatenate them, numpy never writes them, so they signal a format we do
/// not understand.
fn parse_list<T>(
    input: &str,
    mut item: impl FnMut(&mut Cursor) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let mut cur = Cursor { src: input, pos: 0 };
    cur.skip_ws();
    if cur.bump() != Some('[') {
        return Err(format!(
            "expected '[' at the start, found {}",
            preview(input)
        ));
    }
    cur.skip_ws();
    let mut items = Vec::new();
    let mut separated = true;
    loop {
        match cur.peek() {
            None => return Err(cur.err("unterminated list: missing ']'")),
            Some(']') => {
                cur.bump();
                break;
            }
            Some(c) if !separated => {
                return Err(cur.err(format!("expected ',' or whitespace before {c:?}")))
            }
            Some(_) => {}
        }
        items.push(item(&mut cur)?);
        separated = cur.skip_ws();
        if cur.peek() == Some(',') {
            cur.bump();
            cur.skip_ws();
            separated = true;
        }
    }
    cur.skip_ws();
    if let Some(c) = cur.peek() {
        return Err(cur.err(format!("unexpected {c:?} after ']'")));
    }
    Ok(items)
}

/// Parses a Python list of single- or double-quoted string literals, as
/// Python's `repr` (or numpy's) writes them.
///
/// Escapes: `\\ \' \" \n \r \t \xNN \uNNNN \UNNNNNNNN`. Anything else is an
/// error rather than kept verbatim, because `repr` never writes it.
pub(crate) fn parse_str_list(input: &str) -> Result<Vec<String>, String> {
    parse_list(input, parse_str_literal)
}

/// Parses a list of non-negative integers: `[]`, `[1, 2]`, numpy's `[ 1 22]`.
pub(crate) fn parse_int_list(input: &str) -> Result<Vec<u64>, String> {
    parse_list(input, |cur| {
        let start = cur.pos;
        while cur.peek().is_some_and(|c| c.is_ascii_digit()) {
            cur.bump();
        }
        let digits = &cur.src[start..cur.pos];
        if digits.is_empty() {
            return Err(cur.err(format!(
                "expected a non-negative integer, found {}",
                preview(&cur.src[start..])
            )));
        }
        digits
            .parse()
            .map_err(|e| format!("at byte {start}: integer {digits}: {e}"))
    })
}

fn parse_str_literal(cur: &mut Cursor) -> Result<String, String> {
    let start = cur.pos;
    let quote = match cur.bump() {
        Some(q @ ('\'' | '"')) => q,
        other => {
            cur.pos = start;
            return Err(cur.err(format!(
                "expected a quoted string, found {}",
                other.map_or("end of input".to_owned(), |_| preview(&cur.src[start..]))
            )));
        }
    };
    let mut out = String::new();
    loop {
        let c = cur
            .bump()
            .ok_or_else(|| format!("at byte {start}: unterminated string literal"))?;
        match c {
            c if c == quote => return Ok(out),
            '\n' | '\r' => return Err(cur.err("raw line break inside a string literal")),
            '\\' => {
                let esc_at = cur.pos - 1;
                let e = cur
                    .bump()
                    .ok_or_else(|| format!("at byte {start}: unterminated string literal"))?;
                let decoded = match e {
                    '\\' => '\\',
                    '\'' => '\'',
                    '"' => '"',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'x' => hex_char(cur, 2, esc_at)?,
                    'u' => hex_char(cur, 4, esc_at)?,
                    'U' => hex_char(cur, 8, esc_at)?,
                    other => {
                        return Err(format!(
                            "at byte {esc_at}: unsupported escape \\{}",
                            other.escape_debug()
                        ))
                    }
                };
                out.push(decoded);
            }
            c => out.push(c),
        }
    }
}

/// Reads exactly `n` hex digits and returns that code point.
fn hex_char(cur: &mut Cursor, n: usize, esc_at: usize) -> Result<char, String> {
    let start = cur.pos;
    for _ in 0..n {
        match cur.peek() {
            Some(c) if c.is_ascii_hexdigit() => {
                cur.bump();
            }
            _ => return Err(format!("at byte {esc_at}: escape needs {n} hex digits")),
        }
    }
    let code = u32::from_str_radix(&cur.src[start..cur.pos], 16)
        .map_err(|e| format!("at byte {esc_at}: {e}"))?;
    // Lone surrogates (\ud800) are valid in Python strings but not in Rust's.
    char::from_u32(code)
        .ok_or_else(|| format!("at byte {esc_at}: U+{code:X} is not a scalar value"))
}

/// The first few characters of `s`, for error messages.
fn preview(s: &str) -> String {
    if s.is_empty() {
        return "end of input".to_owned();
    }
    let head: String = s.chars().take(20).collect();
    format!("{head:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn str_list_quotes_and_separators() {
        assert_eq!(
            parse_str_list(r#"['First sentence.', "It's second."]"#).unwrap(),
            vec!["First sentence.", "It's second."]
        );
        // numpy's repr: no commas, newline + space between elements.
        assert_eq!(
            parse_str_list("['a b'\n 'c'\n \"d'e\"]").unwrap(),
            vec!["a b", "c", "d'e"]
        );
        assert_eq!(parse_str_list("  [ 'x' , ]  ").unwrap(), vec!["x"]);
        // Brackets and commas inside literals are text.
        assert_eq!(
            parse_str_list(r#"['[a, b]', "]"]"#).unwrap(),
            vec!["[a, b]", "]"]
        );
    }

    #[test]
    fn str_list_escapes() {
        let got = parse_str_list(r#"['it\'s', "say \"hi\"", 'back\\slash', 'a\nb\tc\r']"#).unwrap();
        assert_eq!(got, vec!["it's", "say \"hi\"", "back\\slash", "a\nb\tc\r"]);
        let got = parse_str_list(r"['\xa0\u2009\U0001F600', '\x41']").unwrap();
        assert_eq!(got, vec!["\u{a0}\u{2009}\u{1F600}", "A"]);
        // Non-ASCII text passes through untouched.
        assert_eq!(parse_str_list("['µm ± 5']").unwrap(), vec!["µm ± 5"]);
    }

    #[test]
    fn str_list_empty() {
        assert!(parse_str_list("[]").unwrap().is_empty());
        assert!(parse_str_list(" [ \n ] ").unwrap().is_empty());
        assert_eq!(parse_str_list("['']").unwrap(), vec![""]);
    }

    #[test]
    fn str_list_malformed() {
        for bad in [
            "",
            "'a'",
            "[",
            "['a'",
            "['a]",
            "['a' 'b'",
            "['a''b']",
            "['a',, 'b']",
            "[, 'a']",
            "[a]",
            "['a'] x",
            "['bad \\q escape']",
            "['\\x4']",
            "['\\ud800']",
            "['line\nbreak']",
            "['trailing backslash\\",
            "[1]",
        ] {
            let err = parse_str_list(bad);
            assert!(err.is_err(), "accepted {bad:?}: {err:?}");
        }
        let msg = parse_str_list("['a' x]").unwrap_err();
        assert!(msg.contains("byte 5"), "{msg}");
    }

    #[test]
    fn int_lists() {
        assert!(parse_int_list("[]").unwrap().is_empty());
        assert_eq!(parse_int_list("[123, 456]").unwrap(), vec![123, 456]);
        assert_eq!(parse_int_list("[2 5]").unwrap(), vec![2, 5]);
        assert_eq!(
            parse_int_list("[ 1122279 10697096]").unwrap(),
            vec![1122279, 10697096]
        );
        assert_eq!(parse_int_list("[1\n 2]").unwrap(), vec![1, 2]);
        for bad in [
            "[-1]",
            "[1.5]",
            "[1a]",
            "[1,,2]",
            "['1']",
            "[1",
            "[99999999999999999999]",
        ] {
            assert!(parse_int_list(bad).is_err(), "accepted {bad:?}");
        }
    }

    fn real_zip() -> Option<PathBuf> {
        crate::optional_data("../../shared/data/scifact/scifact.zip")
    }

    #[test]
    fn loads_real_scifact() {
        let Some(path) = real_zip() else { return };
        let sf = load(&path).unwrap();
        assert_eq!(sf.corpus.docs.len(), 5183);
        assert_eq!(sf.queries.len(), 300);
        assert_eq!(sf.qrels.pair_count(), 339);
        assert_eq!(sf.qrels.0.len(), 300, "every test claim cites a document");
        assert_eq!(sf.rationales.0.len(), 188);
        // 338 rationale rows over 209 (claim, doc) pairs; 45,952 sentences in
        // all (both cross-checked with Python's tokenizer on the same zip).
        let rationale_rows: usize = sf.rationales.0.values().map(Vec::len).sum();
        assert_eq!(rationale_rows, 338);
        let sentences: usize = sf.corpus.docs.iter().map(|d| d.sentences.len()).sum();
        assert_eq!(sentences, 45_952);
        assert!(sf.corpus.docs.iter().all(|d| !d.sentences.is_empty()));

        let ids: Vec<u64> = sf.queries.iter().map(|q| q.id.parse().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by numeric id");
        assert_eq!(sf.queries[0].id, "1");
        assert_eq!(
            sf.queries[0].text,
            "0-dimensional biomaterials show inductive properties."
        );
        assert_eq!(sf.qrels.0["1"].keys().collect::<Vec<_>>(), vec!["31715818"]);
        // Claim 3: two rationale sets in doc 14717500, sentences [2 5] and [7].
        assert_eq!(
            sf.rationales.0["3"],
            vec![
                ("14717500".to_owned(), vec![2, 5]),
                ("14717500".to_owned(), vec![7])
            ]
        );
        let first = &sf.corpus.docs[0];
        assert_eq!(first.id, "4983");
        assert!(first.sentences[0].starts_with("Alterations of the architecture"));
    }

    #[test]
    fn writes_jsonl_atomically() {
        let Some(path) = real_zip() else { return };
        let sf = load(&path).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let out = dir.join("sub/scifact.jsonl");
        sf.write_jsonl(&out).unwrap();
        assert!(!dir.join("sub/scifact.jsonl.tmp").exists());
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5183);
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["id"], "4983");
        assert_eq!(v["title"], sf.corpus.docs[0].title.as_str());
        assert_eq!(v["text"], sf.corpus.docs[0].sentences.join(" ").as_str());
    }

    #[test]
    fn missing_member_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let zpath = dir.join("empty.zip");
        let mut w = zip::ZipWriter::new(File::create(&zpath).unwrap());
        w.start_file("data/other.csv", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"x\n").unwrap();
        w.finish().unwrap();
        let err = load(&zpath).unwrap_err();
        assert!(
            matches!(&err, EvalError::MissingMember { name, .. } if name == CORPUS_MEMBER),
            "{err}"
        );
    }

    #[test]
    fn small_zip_in_folder_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let zpath = dir.join("small.zip");
        let mut w = zip::ZipWriter::new(File::create(&zpath).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        w.start_file("scifact/corpus_train.csv", opts).unwrap();
        w.write_all(
            b"doc_id,title,abstract,structured\n\
              10,T1,\"['One.'\n 'Two.']\",False\n\
              20,T2,\"[\"\"It's.\"\"]\",False\n",
        )
        .unwrap();
        w.start_file("scifact/claims_validation.csv", opts).unwrap();
        w.write_all(
            b"id,claim,evidence_doc_id,evidence_label,evidence_sentences,cited_doc_ids\n\
              12,C12,,,[],[20]\n\
              2,C2,10,SUPPORT,[1],[10 20 10]\n\
              2,C2,10,SUPPORT,[0],[10 20 10]\n",
        )
        .unwrap();
        w.finish().unwrap();
        let sf = load(&zpath).unwrap();
        assert_eq!(sf.corpus.docs[1].sentences, vec!["It's."]);
        assert_eq!(
            sf.queries.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(),
            vec!["2", "12"],
            "numeric, not lexicographic, order"
        );
        assert_eq!(sf.qrels.pair_count(), 3);
        assert_eq!(
            sf.rationales.0["2"],
            vec![("10".to_owned(), vec![1]), ("10".to_owned(), vec![0])]
        );
    }
}
