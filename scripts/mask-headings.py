#!/usr/bin/env python3
"""Mask the section headings that would give answers away (stdlib only).

Usage: scripts/mask-headings.py CORPUS_DIR QUESTIONS_FILE [--allow-missing]

For every question (JSONL record) with a `mask_heading` field, the first line of
CORPUS_DIR/<gold_file> that is exactly that heading (e.g. "### `fs.readFile(path[,
options], callback)`") is replaced by the same run of '#'s followed by "Section" and
a short stable id taken from a hash of the original heading line, e.g.
"### Section 3fa1c2". Each (file, heading) pair is masked once, however many
questions name it. Files are rewritten in place (the caller stages the corpus).

Reports how many headings were masked and which were not found. A heading that is
not found, but whose masked form is already in the file, counts as already masked
(so a second run is harmless). Exit status 1 if any heading is missing (neither
the heading nor its masked form is in the file), unless --allow-missing is given.
"""
import hashlib
import json
import os
import re
import sys

HEADING = re.compile(r"^(#{1,6})\s+\S")


def masked_line(heading):
    """'### `fs.readFile(...)`' -> '### Section 3fa1c2' (stable: sha1 of the line)."""
    m = HEADING.match(heading)
    if not m:
        raise ValueError(f"not a Markdown heading: {heading!r}")
    hid = hashlib.sha1(heading.encode("utf-8")).hexdigest()[:6]
    return f"{m.group(1)} Section {hid}"


def load_masks(questions_file):
    """{gold_file: [heading, ...]} in question order, each heading once per file."""
    masks = {}
    with open(questions_file, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            q = json.loads(line)
            h = q.get("mask_heading")
            if not h:
                continue
            lst = masks.setdefault(q["gold_file"], [])
            if h not in lst:
                lst.append(h)
    return masks


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    allow_missing = "--allow-missing" in argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    corpus, questions = args
    masks = load_masks(questions)
    done = already = 0
    missing = []
    for rel, headings in sorted(masks.items()):
        path = os.path.join(corpus, rel)
        try:
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().split("\n")
        except OSError as e:
            missing.extend(f"{rel}: {h} (file: {e.strerror})" for h in headings)
            continue
        changed = False
        for h in headings:
            new = masked_line(h)
            try:
                i = lines.index(h)
            except ValueError:
                if new in lines:
                    already += 1
                else:
                    missing.append(f"{rel}: {h}")
                continue
            lines[i] = new
            done += 1
            changed = True
        if changed:
            tmp = path + ".mask.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines))
            os.replace(tmp, path)
    files = len(masks)
    msg = f"mask-headings: masked {done} headings in {files} files"
    if already:
        msg += f", {already} already masked"
    print(msg)
    for m in missing:
        print(f"mask-headings: NOT FOUND {m}", file=sys.stderr)
    if missing:
        print(f"mask-headings: {len(missing)} headings not found", file=sys.stderr)
        return 0 if allow_missing else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
