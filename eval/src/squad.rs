//! SQuAD 2.0 dev (`.bubble/data/squad.json`): the standard JSON,
//! `{"version", "data": [{"title", "paragraphs": [{"context", "qas":
//! [{"question", "id", "answers": [{"text", "answer_start"}],
//! "is_impossible"}]}]}]}`, loaded with the answer offsets checked.
//!
//! What the real file holds (checked by `loads_real_squad`):
//! - version `v2.0`, 35 articles with 21 to 49 paragraphs each, 1,204
//!   paragraphs, 11,873 questions (ids unique);
//! - 5,945 questions are unanswerable (`is_impossible`, empty `answers`,
//!   a `plausible_answers` list that is not kept); the other 5,928 all have
//!   a non-empty answer, with 1 to 5 distinct answer texts;
//! - all 20,302 answers match their context: `answer_start` counts Unicode
//!   scalar values (Python string offsets), not bytes, and with that reading
//!   no answer is off (`answer_mismatches` is 0);
//! - 27 contexts, all in "Oxygen", contain line breaks, used for chemical
//!   subscripts ("O\n2", "H\n2O\n2"); Bubble's JSONL reader takes each one as
//!   a sentence boundary. None has a blank line. 5 contexts have leading or
//!   trailing whitespace. Both are kept verbatim.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::near_duplicates::near_duplicate;
use crate::EvalError;

/// One Wikipedia article: its title and its paragraphs' contexts.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// The article title.
    pub title: String,
    /// The paragraph contexts, verbatim, in file order.
    pub paragraphs: Vec<String>,
}

/// One question and where its gold paragraph is.
#[derive(Debug, Clone, PartialEq)]
pub struct SquadQuestion {
    /// SQuAD `id`.
    pub id: String,
    /// The question text.
    pub text: String,
    /// Distinct non-blank answer texts in file order (empty when unanswerable).
    pub answers: Vec<String>,
    /// Whether SQuAD marks it `is_impossible` (absent counts as false).
    pub impossible: bool,
    /// Index of its article in [`Squad::articles`].
    pub article: usize,
    /// Index of its paragraph within that article.
    pub paragraph: usize,
}

impl SquadQuestion {
    /// Not `is_impossible`, with at least one non-blank answer.
    pub fn is_answerable(&self) -> bool {
        !self.impossible && !self.answers.is_empty()
    }
}

/// The SQuAD 2.0 dev set.
#[derive(Debug, Clone, PartialEq)]
pub struct Squad {
    /// The articles, in file order.
    pub articles: Vec<Article>,
    /// Every question, answerable or not, in file order.
    pub questions: Vec<SquadQuestion>,
    /// Answers whose `answer_start` (in characters) and text do not match
    /// their context, or point past its end; 0 in the real file.
    pub answer_mismatches: usize,
}

/// Loads the SQuAD JSON at `path`. Every shape error names the file and the
/// article / paragraph / question / answer index; duplicate question ids are
/// an error; answers that do not match their context are only counted.
pub fn load(path: &Path) -> Result<Squad, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = path.display().to_string();
    let root: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format_err(file.clone(), format!("not JSON ({e})")))?;
    let mut squad = Squad {
        articles: Vec::new(),
        questions: Vec::new(),
        answer_mismatches: 0,
    };
    let mut ids: HashMap<String, usize> = HashMap::new();
    for (a, article) in array(&root, "data", &file)?.iter().enumerate() {
        let at = format!("{file} article {a}");
        let title = string(article, "title", &at)?.to_string();
        let mut paragraphs = Vec::new();
        for (p, paragraph) in array(article, "paragraphs", &at)?.iter().enumerate() {
            let at = format!("{at} paragraph {p}");
            let context = string(paragraph, "context", &at)?;
            // Byte offset of every character, and of the end.
            let offsets: Vec<usize> = context
                .char_indices()
                .map(|(b, _)| b)
                .chain([context.len()])
                .collect();
            for (q, qa) in array(paragraph, "qas", &at)?.iter().enumerate() {
                let at = format!("{at} question {q}");
                let id = string(qa, "id", &at)?;
                if id.is_empty() {
                    return Err(format_err(format!("{at} id"), "empty id"));
                }
                if let Some(first) = ids.insert(id.to_string(), squad.questions.len()) {
                    return Err(format_err(
                        format!("{at} id"),
                        format!("duplicate id {id:?}, first seen as question {first} of the file"),
                    ));
                }
                let impossible = match qa.get("is_impossible") {
                    None => false,
                    Some(v) => v.as_bool().ok_or_else(|| {
                        format_err(format!("{at} is_impossible"), "not a boolean")
                    })?,
                };
                let mut answers: Vec<String> = Vec::new();
                for (n, answer) in array(qa, "answers", &at)?.iter().enumerate() {
                    let at = format!("{at} answer {n}");
                    let text = string(answer, "text", &at)?;
                    let start = answer
                        .get("answer_start")
                        .and_then(Value::as_u64)
                        .and_then(|s| usize::try_from(s).ok())
                        .ok_or_else(|| {
                            format_err(
                                format!("{at} answer_start"),
                                "missing or not a non-negative integer",
                            )
                        })?;
                    let end = start.checked_add(text.chars().count());
                    let found = end
                        .and_then(|end| Some((offsets.get(start)?, offsets.get(end)?)))
                        .map(|(&b0, &b1)| &context[b0..b1]);
                    if found != Some(text) {
                        squad.answer_mismatches += 1;
                    }
                    if !text.trim().is_empty() && !answers.iter().any(|t| t == text) {
                        answers.push(text.to_string());
                    }
                }
                squad.questions.push(SquadQuestion {
                    id: id.to_string(),
                    text: string(qa, "question", &at)?.to_string(),
                    answers,
                    impossible,
                    article: a,
                    paragraph: p,
                });
            }
            paragraphs.push(context.to_string());
        }
        squad.articles.push(Article { title, paragraphs });
    }
    Ok(squad)
}

fn field<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a Value, EvalError> {
    let obj = v
        .as_object()
        .ok_or_else(|| format_err(at.to_string(), "not a JSON object"))?;
    obj.get(key)
        .ok_or_else(|| format_err(format!("{at} {key}"), "missing field"))
}

fn string<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a str, EvalError> {
    field(v, key, at)?
        .as_str()
        .ok_or_else(|| format_err(format!("{at} {key}"), "not a string"))
}

fn array<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a Vec<Value>, EvalError> {
    field(v, key, at)?
        .as_array()
        .ok_or_else(|| format_err(format!("{at} {key}"), "not an array"))
}

fn format_err(what: String, detail: impl Into<String>) -> EvalError {
    EvalError::Format {
        what,
        detail: detail.into(),
    }
}

impl Squad {
    /// The answerable questions (see [`SquadQuestion::is_answerable`]), in
    /// file order.
    pub fn answerable(&self) -> Vec<SquadQuestion> {
        self.questions
            .iter()
            .filter(|q| q.is_answerable())
            .cloned()
            .collect()
    }

    /// The paragraphs that make up `q`'s context: its gold paragraph and 4
    /// others of its article drawn from the question id (all of them when
    /// the article has fewer than 5), as `(article, paragraph)` pairs in
    /// article order. Drawn, not the next four: with the next four the gold
    /// paragraph would come first most of the time, and "the first units"
    /// would find the answer for free. Empty when `q` points outside this set.
    pub fn context_of(&self, q: &SquadQuestion) -> Vec<(usize, usize)> {
        let n = self
            .articles
            .get(q.article)
            .map_or(0, |a| a.paragraphs.len());
        if q.paragraph >= n {
            return Vec::new();
        }
        let mut others: Vec<usize> = (0..n).filter(|&p| p != q.paragraph).collect();
        others.sort_by_key(|p| crate::near_duplicates::fnv1a(format!("{}/{p}", q.id).as_bytes()));
        let mut out: Vec<(usize, usize)> = others
            .into_iter()
            .take(4)
            .chain([q.paragraph])
            .map(|p| (q.article, p))
            .collect();
        out.sort_unstable();
        out
    }

    /// Writes Bubble JSONL to `path`: per paragraph, in file order, the record
    /// `{"id": "<article>-<paragraph>", "title": article title, "text":
    /// context}` and, when `with_duplicates`, right after it the record
    /// `"<article>-<paragraph>-dup"` whose text is the near duplicate of
    /// each sentence of the context ([`duplicated_sentences`]), one a line,
    /// with no blank line: the same paragraph copy-edited in another
    /// document, which is where duplicates live in real documentation.
    pub fn write_jsonl(&self, path: &Path, with_duplicates: bool) -> Result<(), EvalError> {
        let mut rows: Vec<(String, &str, String)> = Vec::new();
        for (a, article) in self.articles.iter().enumerate() {
            for (p, context) in article.paragraphs.iter().enumerate() {
                rows.push((format!("{a}-{p}"), &article.title, context.clone()));
                if with_duplicates {
                    let lines: Vec<String> = duplicated_sentences(context)
                        .into_iter()
                        .map(|(_, d)| d)
                        .collect();
                    rows.push((format!("{a}-{p}-dup"), &article.title, lines.join("\n")));
                }
            }
        }
        crate::jsonl::write_records(
            path,
            rows.iter()
                .map(|(id, title, text)| crate::jsonl::Record { id, title, text }),
        )
    }
}

/// The sentences of `context` (Bubble's own split,
/// `bubble_ingest::sentences::sentence_ranges`: trimmed, non-empty, never
/// across a line break), each with its [`near_duplicate`].
pub fn duplicated_sentences(context: &str) -> Vec<(String, String)> {
    bubble_index::bubble_ingest::sentences::sentence_ranges(context)
        .into_iter()
        .map(|r| {
            let s = &context[r];
            (s.to_string(), near_duplicate(s))
        })
        .collect()
}

/// SQuAD's official answer normalisation: lowercase, ASCII punctuation
/// removed, the whole words "a", "an", "the" removed, whitespace collapsed
/// to single spaces (none at the ends).
pub fn normalize_answer(s: &str) -> String {
    let no_punct: String = s
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    no_punct
        .split_whitespace()
        .filter(|w| !matches!(*w, "a" | "an" | "the"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the normalised `text` contains any normalised answer as a run of
/// whole words. An answer that normalises to nothing never matches.
pub fn contains_answer(text: &str, answers: &[String]) -> bool {
    let text = format!(" {} ", normalize_answer(text));
    answers.iter().any(|a| {
        let a = normalize_answer(a);
        !a.is_empty() && text.contains(&format!(" {a} "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Two articles. "Café" has an answer after a non-ASCII character (offsets
    /// count characters), a repeated answer, a blank answer, an impossible
    /// question and one off answer.
    const SMALL: &str = r#"{"version": "v2.0", "data": [
      {"title": "Café", "paragraphs": [
        {"context": "The café opened in 1900. It sells coffee.", "qas": [
          {"id": "q1", "question": "When?", "is_impossible": false, "answers": [
            {"text": "1900", "answer_start": 19}, {"text": "1900", "answer_start": 19},
            {"text": "in 1900", "answer_start": 16}]},
          {"id": "q2", "question": "Who?", "is_impossible": true, "answers": [],
           "plausible_answers": [{"text": "coffee", "answer_start": 34}]}]},
        {"context": "Second.", "qas": [
          {"id": "q3", "question": "Blank?", "answers": [{"text": "", "answer_start": 0}]}]},
        {"context": "Third.", "qas": [
          {"id": "q4", "question": "Off?", "answers": [{"text": "Third", "answer_start": 1}]}]}]},
      {"title": "Six", "paragraphs": [
        {"context": "P0.", "qas": []}, {"context": "P1.", "qas": []},
        {"context": "P2.", "qas": []}, {"context": "P3.", "qas": []},
        {"context": "P4 is a very large paragraph, in fact. It has two sentences.", "qas": [
          {"id": "q5", "question": "Size?", "answers": [{"text": "large", "answer_start": 13}]}]},
        {"context": "P5.", "qas": []}]}]}"#;

    fn small() -> Squad {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("squad.json");
        std::fs::write(&path, SMALL).unwrap();
        load(&path).unwrap()
    }

    #[test]
    fn parses_small_file() {
        let s = small();
        assert_eq!(s.articles.len(), 2);
        assert_eq!(s.articles[0].title, "Café");
        assert_eq!(s.articles[0].paragraphs[1], "Second.");
        assert_eq!(s.articles[1].paragraphs.len(), 6);
        assert_eq!(s.questions.len(), 5);
        assert_eq!(s.answer_mismatches, 1); // q4 only; "1900" is at character 19
        let ans = s.answerable();
        let ids: Vec<&str> = ans.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["q1", "q4", "q5"]);
        assert_eq!(ans[0].answers, ["1900", "in 1900"]);
        assert_eq!(
            (ans[0].text.as_str(), ans[0].article, ans[0].paragraph),
            ("When?", 0, 0)
        );
        assert_eq!((ans[2].article, ans[2].paragraph), (1, 4));
        assert!(s.questions[1].impossible && !s.questions[2].impossible);
        assert!(s.questions[2].answers.is_empty());
    }

    #[test]
    fn context_is_gold_and_four_drawn_others() {
        let s = small();
        let q5 = s.questions[4].clone();
        let c = s.context_of(&q5);
        assert_eq!(c.len(), 5);
        assert!(c.contains(&(1, q5.paragraph)) && c.iter().all(|&(a, _)| a == 1));
        assert!(c.windows(2).all(|w| w[0] < w[1]), "article order: {c:?}");
        assert_eq!(c, s.context_of(&q5), "the same draw every time");
        let q1 = s.questions[0].clone();
        assert_eq!(s.context_of(&q1), [(0, 0), (0, 1), (0, 2)]);
        let lost = SquadQuestion {
            article: 7,
            ..q1.clone()
        };
        assert!(s.context_of(&lost).is_empty());
        let lost = SquadQuestion { paragraph: 3, ..q1 };
        assert!(s.context_of(&lost).is_empty());
    }

    fn records(s: &Squad, dups: bool) -> Vec<serde_json::Value> {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("out/squad.jsonl");
        s.write_jsonl(&path, dups).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn writes_paragraphs_and_their_duplicates() {
        let s = small();
        let plain = records(&s, false);
        assert_eq!(plain.len(), 9);
        assert_eq!(plain[0]["id"], "0-0");
        assert_eq!(plain[0]["title"], "Café");
        assert_eq!(
            plain[0]["text"],
            "The café opened in 1900. It sells coffee."
        );
        assert_eq!(plain[8]["id"], "1-5");
        let with = records(&s, true);
        assert_eq!(with.len(), 18);
        assert_eq!(
            (with[0]["id"].as_str(), with[1]["id"].as_str()),
            (Some("0-0"), Some("0-0-dup"))
        );
        assert_eq!(with[15]["id"], "1-4-dup");
        let pairs = duplicated_sentences(s.articles[1].paragraphs[4].as_str());
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].0, "P4 is a very large paragraph, in fact.");
        assert_eq!(pairs[1].0, "It has two sentences.");
        let lines: Vec<&str> = with[15]["text"].as_str().unwrap().split('\n').collect();
        assert_eq!(lines, [&pairs[0].1, &pairs[1].1]);
        for r in &with {
            let text = r["text"].as_str().unwrap();
            assert!(text.split('\n').all(|l| !l.trim().is_empty()), "{text:?}");
        }
        for (orig, dup) in &pairs {
            assert_ne!(orig, dup);
        }
    }

    #[test]
    fn normalises_like_the_official_script() {
        assert_eq!(
            normalize_answer("  The Quick,  brown fox!"),
            "quick brown fox"
        );
        assert_eq!(
            normalize_answer("An apple a day; theatre"),
            "apple day theatre"
        );
        assert_eq!(normalize_answer("1,000 \"U.S.\" don't"), "1000 us dont");
        assert_eq!(normalize_answer("the"), "");
        let a = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let text = "In 1,000 B.C., the Denver Broncos won.";
        assert!(contains_answer(text, &a(&["the Denver Broncos"])));
        assert!(contains_answer(text, &a(&["nope", "1000 BC"])));
        assert!(!contains_answer(
            text,
            &a(&["Bronco", "Denver Broncos lost"])
        ));
        assert!(!contains_answer(text, &a(&["the", ""])));
        assert!(!contains_answer(text, &[]));
    }

    #[test]
    fn bad_files_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let err = load(&dir.join("absent.json")).unwrap_err();
        assert!(matches!(err, EvalError::Io { .. }), "{err}");
        // `file json => where => what`; `Q:` wraps one question in a file.
        let cases = r#"
            not json => bad.json => not JSON
            [] => bad.json => not a JSON object
            {"data": {}} => bad.json data => not an array
            {"data": [{"paragraphs": []}]} => article 0 title => missing field
            {"data": [{"title": "T", "paragraphs": [{"context": 3, "qas": []}]}]} => article 0 paragraph 0 context => not a string
            Q: {"id": "x", "answers": []} => paragraph 0 question 0 question => missing field
            Q: {"id": "x", "question": "Q", "answers": []}, {"id": "x", "question": "Q", "answers": []} => question 1 id => duplicate id "x"
            Q: {"id": "", "question": "Q", "answers": []} => question 0 id => empty id
            Q: {"id": "x", "question": "Q", "is_impossible": "no", "answers": []} => is_impossible => not a boolean
            Q: {"id": "x", "question": "Q", "answers": [{"text": "C", "answer_start": -1}]} => question 0 answer 0 answer_start => non-negative integer
            Q: {"id": "x", "question": "Q", "answers": [{"text": "C", "answer_start": 1.5}]} => answer_start => non-negative integer
            Q: {"id": "x", "question": "Q", "answers": [{"answer_start": 0}]} => answer 0 text => missing field
            Q: {"id": "x", "question": "Q", "answers": ["C"]} => answer 0 => not a JSON object
            Q: {"id": "x", "question": "Q", "answers": {}} => question 0 answers => not an array
        "#;
        let one = |qa: &str| {
            let p = format!(r#"{{"context": "C.", "qas": [{qa}]}}"#);
            format!(r#"{{"data": [{{"title": "T", "paragraphs": [{p}]}}]}}"#)
        };
        for line in cases.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let mut parts = line.split(" => ");
            let (json, at, want) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            let json = json
                .strip_prefix("Q: ")
                .map_or_else(|| json.to_string(), one);
            let path = dir.join("bad.json");
            std::fs::write(&path, &json).unwrap();
            let err = load(&path).unwrap_err();
            assert!(
                matches!(&err, EvalError::Format { what, detail } if what.contains(at) && detail.contains(want)),
                "{json}: {err}"
            );
        }
        // An answer past the end of its context is a mismatch, not a panic.
        let path = dir.join("past.json");
        let far = r#"{"id": "x", "question": "Q", "answers": [{"text": "C.", "answer_start": 99999999999}]}"#;
        std::fs::write(&path, one(far)).unwrap();
        assert_eq!(load(&path).unwrap().answer_mismatches, 1);
    }

    fn real_file() -> Option<PathBuf> {
        crate::optional_data("../.bubble/data/squad.json")
    }

    #[test]
    fn loads_real_squad() {
        let Some(path) = real_file() else { return };
        let s = load(&path).unwrap();
        let paragraphs: usize = s.articles.iter().map(|a| a.paragraphs.len()).sum();
        let answers: usize = s.answerable().iter().map(|q| q.answers.len()).sum();
        let (n, answerable) = (s.questions.len(), s.answerable().len());
        println!(
            "{paragraphs} paragraphs, {n} questions, {answerable} answerable, {answers} answers"
        );
        assert_eq!(
            (s.articles.len(), paragraphs, s.questions.len()),
            (35, 1_204, 11_873)
        );
        assert_eq!(s.questions.iter().filter(|q| q.impossible).count(), 5_945);
        assert_eq!(s.answerable().len(), 5_928);
        assert_eq!(s.answer_mismatches, 0);
        assert_eq!(s.articles[0].title, "Normans");
        // Every answerable question's answer is in its gold paragraph, but
        // after normalisation some no longer are on word boundaries
        // ("Rollo" in "Rollo's" → "rollos").
        let mut not_contained = Vec::new();
        for q in s.answerable() {
            let gold = &s.articles[q.article].paragraphs[q.paragraph];
            if !contains_answer(gold, &q.answers) {
                not_contained.push(q.id.clone());
            }
            assert_eq!(s.context_of(&q).len(), 5);
            assert!(s.context_of(&q).contains(&(q.article, q.paragraph)));
        }
        println!(
            "{} answerable questions have no normalised answer in their gold paragraph",
            not_contained.len()
        );
        assert_eq!(not_contained.len(), 52);
        assert_eq!(not_contained[0], "56dde1d966d3e219004dad8d");
        // Near duplicates of every real sentence: non-empty, one line, and
        // different whenever the sentence has 2+ words.
        let (mut total, mut same) = (0, 0);
        for a in &s.articles {
            for p in &a.paragraphs {
                for (orig, dup) in duplicated_sentences(p) {
                    total += 1;
                    assert!(!dup.trim().is_empty() && !dup.contains('\n'), "{orig:?}");
                    if orig == dup {
                        same += 1;
                        assert!(orig.split_whitespace().count() < 2, "{orig:?}");
                    }
                }
            }
        }
        println!("{total} sentences, {same} duplicates equal to their original");
        assert!(total > 5_000);
    }
}
