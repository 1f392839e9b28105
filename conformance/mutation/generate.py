"""Generated mutants: every line-level mutant universalmutator's C++ rules make of impl/'s sources.

A mutant is data, not a patched file: {id, file, line (1-based), original, mutated, rule}. Its id
hashes the file, the original and mutated line and which occurrence of that original line it is
(not the line number), so that a classification survives edits elsewhere in the file.
"""
import contextlib
import hashlib
import io
import re

# What `mutate FILE cpp --noCheck` applies to a .cpp or .h file (genmutants.py's choice for cpp).
RULE_FILES = ("universal.rules", "cpp.rules", "c_like.rules")
INSTALL_HINT = ("universalmutator is missing: install it with "
                "<venv>/bin/pip install -r conformance/mutation/requirements.txt")


def tool_version():
    try:
        from importlib.metadata import version
        return version("universalmutator")
    except Exception:  # not installed: generate_for_file says how to install it
        return None


def raw_mutants(lines):
    """(line number, mutated line, rule text) for `lines` (each with its newline), by universalmutator."""
    try:
        from universalmutator import mutator
    except ImportError as error:
        raise RuntimeError(INSTALL_HINT) from error
    with contextlib.redirect_stdout(io.StringIO()):  # it prints progress and rule warnings
        found = mutator.mutants_regexp(lines, ruleFiles=list(RULE_FILES), ignorePatterns=[],
                                       ignoreStringOnly=True)
    return [(lineno, mutated, rule[0]) for lineno, mutated, rule, _ in found]


_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|//.*|/\*.*?\*/|\s+|.', re.DOTALL)


def code_only(line):
    """`line` without comments and whitespace outside string and character literals."""
    kept = []
    for token in _TOKEN.findall(line):
        if token.startswith(("//", "/*")) or token.isspace():
            continue
        kept.append(token)
    return "".join(kept)


def mutant_id(file, original, mutated, occurrence):
    text = "\0".join((file, original.rstrip("\n"), mutated.rstrip("\n"), str(occurrence)))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def mutants_of(file, text, raw):
    """The kept mutants of `file` (its `text`) from `raw` [(line, mutated, rule)]: no no-op, no
    comment- or whitespace-only change, no duplicate (the first rule that made a mutant names it)."""
    lines = text.splitlines(keepends=True)
    occurrence, seen_count = [], {}
    for line in lines:  # the how-many-th identical line each is, for the id
        key = line.rstrip("\n")
        occurrence.append(seen_count.get(key, 0))
        seen_count[key] = seen_count.get(key, 0) + 1
    kept, seen = [], set()
    for lineno, mutated, rule in raw:
        original = lines[lineno - 1]
        mutated = mutated if mutated.endswith("\n") or not original.endswith("\n") else mutated + "\n"
        if mutated == original or code_only(mutated) == code_only(original):
            continue
        ident = mutant_id(file, original, mutated, occurrence[lineno - 1])
        if ident in seen:
            continue
        seen.add(ident)
        kept.append({"id": ident, "file": file, "line": lineno, "original": original.rstrip("\n"),
                     "mutated": mutated.rstrip("\n"), "rule": rule})
    return kept


def generate(sources):
    """Every kept mutant of `sources` {file: text}, in file then line order."""
    mutants = []
    for file in sorted(sources):
        text = sources[file]
        mutants += mutants_of(file, text, raw_mutants(text.splitlines(keepends=True)))
    return mutants


def apply(text, mutant):
    """`text` with the mutant's line replaced; ValueError if that line is not the mutant's original."""
    lines = text.splitlines(keepends=True)
    index = mutant["line"] - 1
    if index >= len(lines) or lines[index].rstrip("\n") != mutant["original"]:
        raise ValueError(f"{mutant['file']}:{mutant['line']} is not the mutant's original line")
    lines[index] = mutant["mutated"] + ("\n" if lines[index].endswith("\n") else "")
    return "".join(lines)
