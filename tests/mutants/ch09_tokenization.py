"""Wrong implementations for chapter 09 (byte-level BPE): each is a mistake learners make.

The mutants are edits of the reference solutions (read from the exercises notebook), so that
each one differs from the reference in exactly the lines of its mistake; an edit that no longer
matches the reference fails loudly at import.
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCE = reference_solutions("09_tokenization")


def train(*edits: tuple[str, str]) -> str:
    return edited(REFERENCE, "train_bpe", *edits)


def tok(*edits: tuple[str, str]) -> str:
    return edited(REFERENCE, "Tokenizer", *edits)


PICK = "        best = max(compress(pair_counts, map(top.__eq__, pair_counts.values())))"
SPECIALS_FIRST = """\
    for token in special_tokens:
        vocab[len(vocab)] = token.encode("utf-8")
"""
SPLIT_ON_SPECIALS = """\
    if special_tokens:  # longest first, so that a special token inside another does not cut it
        longest_first = sorted(special_tokens, key=len, reverse=True)
        chunks = regex.split("|".join(regex.escape(t) for t in longest_first), text)
"""
SUBTRACT_OLD_PAIRS = """\
            for pair in pairwise(word):  # remove the word's old pairs ...
                pair_counts[pair] -= freq
                if pair_counts[pair] == 0:
                    del pair_counts[pair]
"""
MERGE_LOOP = """\
                    while len(parts) > 1:  # merge the adjacent pair learned first
                        pairs = pairwise(parts)
                        r, j = min((self.rank.get(p, never), j) for j, p in enumerate(pairs))
                        if r == never:
                            break
                        parts[j : j + 2] = [parts[j] + parts[j + 1]]
"""

RECOUNT_EVERY_MERGE = '''
def train_bpe(text, vocab_size, special_tokens=()):
    """Train a byte-level BPE on `text` (recounting every pair before each merge)."""
    vocab = {i: bytes([i]) for i in range(256)}
    for token in special_tokens:
        vocab[len(vocab)] = token.encode("utf-8")
    chunks = [text]
    if special_tokens:
        longest_first = sorted(special_tokens, key=len, reverse=True)
        chunks = regex.split("|".join(regex.escape(t) for t in longest_first), text)
    pretokens = Counter()
    for chunk in chunks:
        pretokens.update(p.encode("utf-8") for p in regex.findall(GPT2_PATTERN, chunk))
    words = {tuple(bytes([b]) for b in p): n for p, n in pretokens.items()}
    merges = []
    while len(vocab) < vocab_size:
        counts = Counter()
        for word, n in words.items():
            for pair in pairwise(word):
                counts[pair] += n
        if not counts:
            break
        best = max(counts, key=lambda pair: (counts[pair], pair))
        merges.append(best)
        vocab[len(vocab)] = best[0] + best[1]
        new_words = {}
        for word, n in words.items():
            out, j = [], 0
            while j < len(word):
                if word[j : j + 2] == best:
                    out.append(word[j] + word[j + 1])
                    j += 2
                else:
                    out.append(word[j])
                    j += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + n
        words = new_words
    return vocab, merges
'''

MUTANTS = [
    # ---------------------------------------------------------------- train_bpe
    Mutant(
        name="bpe_tie_first_found",
        cell="train_bpe",
        fails=["test_train_bpe", "hidden_train_bpe_ties"],
        code=train((PICK, "        best = max(pair_counts, key=pair_counts.get)")),
    ),
    Mutant(
        name="bpe_tie_smallest_pair",
        cell="train_bpe",
        fails=["test_train_bpe", "hidden_train_bpe_ties"],
        code=train(
            (PICK, PICK.replace("best = max(compress", "best = min(compress")),
        ),
    ),
    Mutant(
        name="bpe_counts_not_weighted_by_frequency",
        cell="train_bpe",
        fails=["hidden_train_bpe_frequencies"],
        code=train(
            ("pair_counts[pair] += freq", "pair_counts[pair] += 1"),
            ("pair_counts[pair] -= freq", "pair_counts[pair] -= 1"),
        ),
    ),
    Mutant(
        name="bpe_old_pairs_not_subtracted",
        cell="train_bpe",
        fails=["hidden_train_bpe_frequencies"],
        code=train((SUBTRACT_OLD_PAIRS, "")),
    ),
    Mutant(
        name="bpe_no_pretokenization",
        cell="train_bpe",
        fails=["hidden_train_bpe_pretokens"],
        code=train(("regex.findall(GPT2_PATTERN, chunk)", "[chunk]")),
    ),
    Mutant(
        name="bpe_split_on_whitespace",
        cell="train_bpe",
        fails=["hidden_train_bpe_pretokens"],
        code=train(("regex.findall(GPT2_PATTERN, chunk)", "chunk.split()")),
    ),
    Mutant(
        name="bpe_pattern_without_the_whitespace_lookahead",
        cell="train_bpe",
        fails=["hidden_train_bpe_pretokens"],
        code=train(
            (
                "regex.findall(GPT2_PATTERN, chunk)",
                r'regex.findall(GPT2_PATTERN.replace(r"\s+(?!\S)|", ""), chunk)',
            )
        ),
    ),
    Mutant(
        name="bpe_characters_instead_of_bytes",
        cell="train_bpe",
        fails=["hidden_train_bpe_bytes"],
        code=train(
            (
                'pretokens.update(p.encode("utf-8") for p in regex.findall(GPT2_PATTERN, chunk))',
                "pretokens.update(regex.findall(GPT2_PATTERN, chunk))",
            ),
            (
                "words = [[bytes([b]) for b in p] for p in pretokens]",
                'words = [[c.encode("utf-8") for c in p] for p in pretokens]',
            ),
        ),
    ),
    Mutant(
        name="bpe_special_tokens_after_the_merges",
        cell="train_bpe",
        fails=["test_train_bpe", "hidden_train_bpe_special_tokens"],
        code=train(
            (SPECIALS_FIRST, ""),
            (
                "    return vocab, merges\n",
                "    for token in special_tokens:\n"
                '        vocab[len(vocab)] = token.encode("utf-8")\n'
                "    return vocab, merges\n",
            ),
            (
                "while len(vocab) < vocab_size",
                "while len(vocab) + len(special_tokens) < vocab_size",
            ),
        ),
    ),
    Mutant(
        name="bpe_text_not_split_on_special_tokens",
        cell="train_bpe",
        fails=["hidden_train_bpe_special_tokens"],
        code=train((SPLIT_ON_SPECIALS, "")),
    ),
    Mutant(
        name="bpe_recounts_every_pair_before_each_merge",
        cell="train_bpe",
        fails=["hidden_train_bpe_speed"],
        code=RECOUNT_EVERY_MERGE,
    ),
    # ---------------------------------------------------------------- Tokenizer
    Mutant(
        name="tokenizer_merges_the_leftmost_pair",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_merge_order"],
        code=tok(
            (
                MERGE_LOOP,
                """\
                    while len(parts) > 1:  # merge the leftmost pair that is a merge
                        pairs = list(zip(parts, parts[1:]))
                        js = [j for j, p in enumerate(pairs) if p in self.rank]
                        if not js:
                            break
                        j = js[0]
                        parts[j : j + 2] = [parts[j] + parts[j + 1]]
""",
            )
        ),
    ),
    Mutant(
        name="tokenizer_longest_match_in_the_vocabulary",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_merge_order"],
        code=tok(
            (
                '                    parts = [bytes([b]) for b in pre.encode("utf-8")]\n'
                + MERGE_LOOP,
                """\
                    raw, parts = pre.encode("utf-8"), []
                    while raw:  # the longest vocabulary entry that starts the rest
                        end = max(e for e in range(1, len(raw) + 1) if raw[:e] in self.id_of)
                        parts.append(raw[:end])
                        raw = raw[end:]
""",
            )
        ),
    ),
    Mutant(
        name="tokenizer_no_pretokenization",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_merge_order"],
        code=tok(("regex.findall(GPT2_PATTERN, piece)", "([piece] if piece else [])")),
    ),
    Mutant(
        name="tokenizer_special_tokens_in_the_order_given",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_longest_special"],
        code=tok(
            (
                "longest_first = sorted(self.special_tokens, key=len, reverse=True)",
                "longest_first = self.special_tokens",
            )
        ),
    ),
    Mutant(
        name="tokenizer_decodes_each_token_on_its_own",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_roundtrip"],
        code=tok(
            (
                'return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")',
                'return "".join(self.vocab[i].decode("utf-8", errors="replace") for i in ids)',
            )
        ),
    ),
    Mutant(
        name="tokenizer_decode_strict",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_invalid_utf8"],
        code=tok(('.decode("utf-8", errors="replace")', '.decode("utf-8")')),
    ),
    Mutant(
        name="tokenizer_decode_ignores_invalid_bytes",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_invalid_utf8"],
        code=tok(('.decode("utf-8", errors="replace")', '.decode("utf-8", errors="ignore")')),
    ),
    Mutant(
        name="tokenizer_iterable_encodes_each_line",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_iterable_matches"],
        code=tok(
            (
                "        for line in lines:\n            buffer += line\n",
                "        for line in lines:\n"
                "            yield from self.encode(line)\n"
                "            continue\n"
                "            buffer += line\n",
            )
        ),
    ),
    Mutant(
        name="tokenizer_iterable_cuts_at_every_newline",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_iterable_matches"],
        code=tok(
            ('last_cut = regex.compile(r"(?r)\\S\\s")', 'last_cut = regex.compile(r"(?r)\\n")')
        ),
    ),
    Mutant(
        name="tokenizer_iterable_reads_everything_first",
        cell="Tokenizer",
        fails=["hidden_Tokenizer_iterable_streams"],
        code=tok(
            (
                '        buffer = ""\n        for line in lines:\n',
                '        buffer = ""\n        for line in list(lines):\n',
            )
        ),
    ),
]
