#!/usr/bin/env python3
"""Validate a documentation question set against its (masked) corpus (stdlib only).

Usage: scripts/check-questions.py [CORPUS_DIR [QUESTIONS_FILE]] [-v]
  CORPUS_DIR      default corpora/external/nodejs-18 (as written by scripts/fetch-nodejs-docs,
                  i.e. with the heading masks applied)
  QUESTIONS_FILE  default corpora/nodejs-questions.jsonl
  -v              list every duplicate / note, not only a summary

Checks (ERROR makes the exit status 1; WARN and INFO do not):
  * fields: exactly id, query, gold_snippet, gold_file, source, split, plus optional alt_gold
    (list of {gold_snippet, gold_file}) and mask_heading; types; source "nodejs"; split
    "train" or "test"; ids "n001", "n002", ... unique;
  * every gold / alt snippet: >= 80 characters, does not start with '#', occurs verbatim in
    its file, starts at the start of a line that opens a passage (paragraph, list item,
    table row or code fence), and its probe (first 80 characters of the normalised snippet,
    normalisation as in the peers' scoring.py: NFKC, lower case, every run of
    non-alphanumeric characters -> one space) occurs in the normalised file;
  * probe count across the whole corpus: a probe that also occurs in a file that is neither
    the gold file nor an alt_gold file is a WARN; repeats inside listed files are INFO;
  * no 4-word overlap between the normalised query and the first 300 characters of the gold
    passage (taken from the corpus at the snippet's position);
  * mask_heading: a heading line; the gold file no longer contains it but contains its masked
    form ("#... Section <sha1[:6]>", see scripts/mask-headings.py), and the masked line is the
    gold passage's own section heading or one of its ancestors;
  * split by file: all questions of a gold file are in one split, and that split follows the
    rule: test if int(sha1(gold_file).hexdigest(), 16) % 5 < 2, else train. Cross-split
    alt_gold files are reported as INFO;
  * counts per split and per file.
"""
import collections
import hashlib
import json
import os
import re
import sys
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
HEADING = re.compile(r"^(#{1,6})\s+\S")
FIELDS = {"id", "query", "gold_snippet", "gold_file", "source", "split"}
OPTIONAL = {"alt_gold", "mask_heading"}
PROBE = 80


def norm(s):
    s = unicodedata.normalize("NFKC", s).lower()
    return " ".join(_NON_WORD.sub(" ", s).split())


def probe_of(snippet):
    return norm(snippet)[:PROBE].strip()


def split_rule(name):
    return "test" if int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16) % 5 < 2 else "train"


def masked_line(heading):
    m = HEADING.match(heading)
    return f"{m.group(1)} Section {hashlib.sha1(heading.encode('utf-8')).hexdigest()[:6]}"


def headings_before(text, pos):
    """[(level, line)] of Markdown headings before pos, skipping fenced code blocks."""
    out, fence = [], None
    for line in text[:pos].split("\n"):
        s = line.lstrip()
        if s.startswith("```") or s.startswith("~~~"):
            mark = s[:3]
            fence = None if fence == mark else (fence or mark)
            continue
        if fence is None:
            m = HEADING.match(line)
            if m:
                out.append((len(m.group(1)), line))
    return out


def ancestors(heads):
    """The section heading of a position and its ancestors (nearest first)."""
    chain, level = [], 7
    for lv, line in reversed(heads):
        if lv < level:
            chain.append(line)
            level = lv
    return chain


def passage_start_ok(text, pos, snippet):
    if pos > 0 and text[pos - 1] != "\n":
        return False
    if re.match(r"\s*([*+-] |\d+\. |\||```|~~~|>)", snippet):
        return True
    prev_end = pos - 1
    prev_start = text.rfind("\n", 0, max(prev_end, 0)) + 1
    prev = text[prev_start:prev_end] if pos > 0 else ""
    return prev.strip() == "" or HEADING.match(prev) is not None or prev.strip().startswith("<!--")


def words(s):
    return norm(s).split()


def overlap4(query, passage):
    pw = words(passage)
    grams = {tuple(pw[i:i + 4]) for i in range(len(pw) - 3)}
    qw = words(query)
    return sorted({" ".join(qw[i:i + 4]) for i in range(len(qw) - 3) if tuple(qw[i:i + 4]) in grams})


def main(argv):
    verbose = "-v" in argv
    args = [a for a in argv if not a.startswith("-")]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    corpus = args[0] if len(args) > 0 else os.path.join(root, "corpora/external/nodejs-18")
    qfile = args[1] if len(args) > 1 else os.path.join(root, "corpora/nodejs-questions.jsonl")

    errors, warns, infos = [], [], []
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".md"))
    raw = {}
    for f in files:
        with open(os.path.join(corpus, f), encoding="utf-8") as fh:
            raw[f] = fh.read()
    normed = {f: norm(t) for f, t in raw.items()}

    qs = []
    with open(qfile, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                qs.append(json.loads(line))
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: not JSON ({e})")

    ids = collections.Counter(q.get("id") for q in qs)
    for i, c in ids.items():
        if c > 1:
            errors.append(f"{i}: id used {c} times")
    dup_probe_qs = 0
    for n, q in enumerate(qs, 1):
        qid = q.get("id", f"line {n}")
        keys = set(q)
        if not FIELDS <= keys or keys - FIELDS - OPTIONAL:
            errors.append(f"{qid}: fields {sorted(keys)} (missing {sorted(FIELDS - keys)}, "
                          f"unknown {sorted(keys - FIELDS - OPTIONAL)})")
            continue
        if not re.fullmatch(r"n\d{3,}", str(q["id"])):
            errors.append(f"{qid}: id not of the form n001")
        if q["source"] != "nodejs":
            errors.append(f"{qid}: source {q['source']!r}")
        if q["split"] not in ("train", "test"):
            errors.append(f"{qid}: split {q['split']!r}")
        if not isinstance(q["query"], str) or len(q["query"].strip()) < 10:
            errors.append(f"{qid}: query missing or too short")
        if q["gold_file"] not in raw:
            errors.append(f"{qid}: gold_file {q['gold_file']!r} not in corpus")
            continue
        golds = [(q["gold_snippet"], q["gold_file"])]
        alts = q.get("alt_gold", [])
        if not isinstance(alts, list):
            errors.append(f"{qid}: alt_gold is not a list")
            alts = []
        for a in alts:
            if not isinstance(a, dict) or set(a) != {"gold_snippet", "gold_file"}:
                errors.append(f"{qid}: alt_gold entry {a!r} needs exactly gold_snippet, gold_file")
            elif a["gold_file"] not in raw:
                errors.append(f"{qid}: alt_gold file {a['gold_file']!r} not in corpus")
            else:
                golds.append((a["gold_snippet"], a["gold_file"]))
                if split_rule(a["gold_file"]) != q["split"]:
                    infos.append(f"{qid}: alt_gold file {a['gold_file']} is in the other split")
        listed = {f for _, f in golds}
        gold_pos = None
        for k, (snip, f) in enumerate(golds):
            what = "gold" if k == 0 else f"alt_gold[{k - 1}]"
            if not isinstance(snip, str) or len(snip) < 80:
                errors.append(f"{qid}: {what} snippet shorter than 80 characters")
                continue
            if snip.lstrip().startswith("#"):
                errors.append(f"{qid}: {what} snippet starts with '#'")
            pr = probe_of(snip)
            if len(pr) < PROBE - 5:
                errors.append(f"{qid}: {what} probe only {len(pr)} characters after normalisation")
            if pr not in normed[f]:
                errors.append(f"{qid}: {what} probe not found in {f}")
            pos = raw[f].find(snip)
            if pos < 0:
                errors.append(f"{qid}: {what} snippet not verbatim in {f}")
            elif not passage_start_ok(raw[f], pos, snip):
                errors.append(f"{qid}: {what} snippet does not start at a passage start in {f}")
            if k == 0:
                gold_pos = pos
            where = {g: normed[g].count(pr) for g in files if pr in normed[g]}
            others = sorted(set(where) - listed)
            if others:
                warns.append(f"{qid}: {what} probe also in unlisted files {others}")
            if sum(where.values()) > 1:
                dup_probe_qs += k == 0
                infos.append(f"{qid}: {what} probe occurs {sum(where.values())}x: {where}")
        f = q["gold_file"]
        if gold_pos is not None and gold_pos >= 0:
            ov = overlap4(q["query"], raw[f][gold_pos:gold_pos + 300])
            if ov:
                errors.append(f"{qid}: query shares 4-word runs with the gold passage: {ov}")
            chain = ancestors(headings_before(raw[f], gold_pos))
            if chain:
                hov = overlap4(q["query"], chain[0])
                if hov and "mask_heading" not in q:
                    warns.append(f"{qid}: query shares {hov} with unmasked heading {chain[0]!r}")
        h = q.get("mask_heading")
        if h is not None:
            if not isinstance(h, str) or not HEADING.match(h):
                errors.append(f"{qid}: mask_heading {h!r} is not a heading line")
            else:
                lines = raw[f].split("\n")
                m = masked_line(h)
                if m not in lines:
                    why = " (heading still present: corpus not masked?)" if h in lines else ""
                    errors.append(f"{qid}: masked heading {m!r} not in {f}{why}")
                elif h in lines:
                    infos.append(f"{qid}: {f} has another, unmasked copy of {h!r} "
                                 "(only the first is masked)")
                elif gold_pos is not None and gold_pos >= 0:
                    chain = ancestors(headings_before(raw[f], gold_pos))
                    if m not in chain:
                        errors.append(f"{qid}: masked heading {m!r} is not the gold passage's "
                                      f"section or an ancestor (section: {chain[:1]})")

    by_file = collections.defaultdict(collections.Counter)
    for q in qs:
        if "gold_file" in q and "split" in q:
            by_file[q["gold_file"]][q["split"]] += 1
    for f, c in sorted(by_file.items()):
        if len(c) > 1:
            errors.append(f"{f}: questions in both splits {dict(c)}")
        want = split_rule(f)
        for s in c:
            if s != want:
                errors.append(f"{f}: split {s} but the sha1 rule says {want}")
    split_n = collections.Counter(q.get("split") for q in qs)
    masks = sum(1 for q in qs if q.get("mask_heading"))
    mask_pairs = {(q["gold_file"], q["mask_heading"]) for q in qs if q.get("mask_heading")}

    print(f"check-questions: {len(qs)} questions in {qfile}")
    print(f"  corpus {corpus}: {len(files)} files; questions cover {len(by_file)} files")
    tot = max(len(qs), 1)
    print(f"  split: train {split_n['train']}, test {split_n['test']} "
          f"({100 * split_n['test'] / tot:.1f}% test); "
          f"test files {sum(1 for f in by_file if split_rule(f) == 'test')}, "
          f"train files {sum(1 for f in by_file if split_rule(f) == 'train')}")
    print(f"  mask_heading on {masks} questions ({len(mask_pairs)} distinct headings)")
    print(f"  questions with alt_gold: {sum(1 for q in qs if q.get('alt_gold'))}; "
          f"gold probes occurring more than once in the corpus: {dup_probe_qs}")
    print("  per file (split: count):")
    for f, c in sorted(by_file.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        s, n = next(iter(c.items()))
        print(f"    {f:40s} {s:5s} {n}")
    for f in files:
        if f not in by_file:
            print(f"    {f:40s} ({split_rule(f)}, no questions)")
    for label, items, always in (("ERROR", errors, True), ("WARN", warns, True),
                                 ("INFO", infos, verbose)):
        if items:
            print(f"  {len(items)} {label}{'S' if len(items) > 1 else ''}"
                  + ("" if always else " (-v to list)"))
            if always:
                for e in items:
                    print(f"    {label}: {e}")
    print("check-questions: " + ("FAILED" if errors else "OK"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
