"""Wrong implementations for chapter 05 (embeddings, sequence to sequence, attention).

Each mutant is an edit of the reference solution (read from the exercises notebook), so that it
differs from the reference in exactly the lines of its mistake.
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCE = reference_solutions("05_seq2seq")


def _edit(grade_id: str, *edits: tuple[str, str]) -> str:
    return edited(REFERENCE, grade_id, *edits)


MUTANTS = [
    # ---------------------------------------------------------------- skipgram_pairs
    Mutant(
        name="skipgram_window_exclusive",
        cell="skipgram_pairs",
        fails=["hidden_skipgram_pairs_edges"],
        code=_edit("skipgram_pairs", ("i + window + 1)", "i + window)")),
    ),
    Mutant(
        name="skipgram_wraps_around",
        cell="skipgram_pairs",
        fails=["hidden_skipgram_pairs_edges"],
        code="""
def skipgram_pairs(token_ids, window):
    ids = torch.as_tensor(list(int(t) for t in token_ids), dtype=torch.long)
    if len(ids) < 2:
        return torch.zeros(0, 2, dtype=torch.long)
    rows = []
    for i in range(len(ids)):
        for d in range(-window, window + 1):
            if d != 0 and 0 <= i + d < len(ids) + (1 if d > 0 and i + d == len(ids) else 0):
                rows.append((ids[i].item(), torch.roll(ids, -d)[i].item()))
    return torch.tensor(rows, dtype=torch.long).reshape(-1, 2)
""",
    ),
    Mutant(
        name="skipgram_ordered_by_offset",
        cell="skipgram_pairs",
        fails=["hidden_skipgram_pairs_order"],
        code="""
def skipgram_pairs(token_ids, window):
    ids = torch.as_tensor([int(t) for t in token_ids], dtype=torch.long)
    parts = []
    for d in range(1, window + 1):  # vectorized per offset: the order is by offset, not by i
        parts.append(torch.stack([ids[:-d], ids[d:]], dim=1))
        parts.append(torch.stack([ids[d:], ids[:-d]], dim=1))
    if not parts:
        return torch.zeros(0, 2, dtype=torch.long)
    return torch.cat(parts).reshape(-1, 2)
""",
    ),
    Mutant(
        name="skipgram_empty_is_float",
        cell="skipgram_pairs",
        fails=["hidden_skipgram_pairs_empty"],
        code=_edit(
            "skipgram_pairs",
            (
                "return torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)",
                "return torch.tensor(pairs)",
            ),
        ),
    ),
    # ---------------------------------------------------------------- negative_sampling_loss
    Mutant(
        name="nsl_log_of_sigmoid",
        cell="negative_sampling_loss",
        fails=["hidden_negative_sampling_loss_stable"],
        code=_edit(
            "negative_sampling_loss",
            (
                "-F.logsigmoid(positive) - F.logsigmoid(-negative).sum(dim=-1)",
                "-torch.log(torch.sigmoid(positive)) - torch.log(torch.sigmoid(-negative)).sum(dim=-1)",
            ),
        ),
    ),
    Mutant(
        name="nsl_mean_over_negatives",
        cell="negative_sampling_loss",
        fails=["test_negative_sampling_loss", "hidden_negative_sampling_loss_reduction"],
        code=_edit(
            "negative_sampling_loss",
            ("F.logsigmoid(-negative).sum(dim=-1)", "F.logsigmoid(-negative).mean(dim=-1)"),
        ),
    ),
    Mutant(
        name="nsl_negatives_against_every_center",
        cell="negative_sampling_loss",
        fails=["test_negative_sampling_loss", "hidden_negative_sampling_loss_reduction"],
        code=_edit(
            "negative_sampling_loss",
            (
                "negative = (negatives * center[:, None, :]).sum(dim=-1)  # (B, K)",
                "negative = (negatives @ center.T).mean(dim=-1)  # (B, K): mixes the rows",
            ),
        ),
    ),
    Mutant(
        name="nsl_detached_negatives",
        cell="negative_sampling_loss",
        fails=["hidden_negative_sampling_loss_gradients"],
        code=_edit(
            "negative_sampling_loss",
            ("(negatives * center[:, None, :])", "(negatives.detach() * center[:, None, :])"),
        ),
    ),
    # ---------------------------------------------------------------- additive_attention
    Mutant(
        name="attention_mask_inverted",
        cell="additive_attention",
        fails=["test_additive_attention", "hidden_additive_attention_mask"],
        code=_edit("additive_attention", ("masked_fill(~mask,", "masked_fill(mask,")),
    ),
    Mutant(
        name="attention_masked_fill_zero",
        cell="additive_attention",
        fails=["test_additive_attention", "hidden_additive_attention_mask"],
        code=_edit(
            "additive_attention", ('masked_fill(~mask, float("-inf"))', "masked_fill(~mask, 0.0)")
        ),
    ),
    Mutant(
        name="attention_exp_times_mask",
        cell="additive_attention",
        fails=["hidden_additive_attention_stable"],
        code=_edit(
            "additive_attention",
            (
                """    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (B, S)""",
                """    e = torch.exp(scores)  # (B, S)
    if mask is not None:
        e = e * mask
    weights = e / e.sum(dim=-1, keepdim=True)  # (B, S)""",
            ),
        ),
    ),
    Mutant(
        name="attention_softmax_over_batch",
        cell="additive_attention",
        fails=["test_additive_attention", "hidden_additive_attention_axis"],
        code=_edit(
            "additive_attention", ("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=0)")
        ),
    ),
    # ---------------------------------------------------------------- beam_search
    Mutant(
        name="beam_ranks_by_last_log_prob",
        cell="beam_search",
        fails=["hidden_beam_search_cumulative"],
        code=_edit(
            "beam_search",
            (
                "candidates.append((tokens + [t], score + lp, h_next))",
                "candidates.append((tokens + [t], lp, h_next))",
            ),
        ),
    ),
    Mutant(
        name="beam_drops_finished",
        cell="beam_search",
        fails=["hidden_beam_search_finished"],
        code=_edit(
            "beam_search",
            (
                "                candidates.append((tokens, score, h))  # finished: kept as it is\n",
                "",
            ),
            (
                "        beam = candidates[:beam_size]\n",
                "        beam = candidates[:beam_size] or beam\n",
            ),
        ),
    ),
    Mutant(
        name="beam_extends_past_eos",
        cell="beam_search",
        fails=["hidden_beam_search_finished"],
        code=_edit(
            "beam_search",
            ("            if tokens and tokens[-1] == eos:\n", "            if False:\n"),
        ),
    ),
    Mutant(
        name="beam_extends_from_the_initial_state",
        cell="beam_search",
        fails=["hidden_beam_search_states"],
        code=_edit(
            "beam_search",
            (
                "step_fn(tokens[-1] if tokens else bos, h)",
                "step_fn(tokens[-1] if tokens else bos, h0)",
            ),
        ),
    ),
    Mutant(
        name="beam_one_step_too_many",
        cell="beam_search",
        fails=["hidden_beam_search_max_len"],
        code=_edit("beam_search", ("for _ in range(max_len):", "for _ in range(max_len + 1):")),
    ),
]
