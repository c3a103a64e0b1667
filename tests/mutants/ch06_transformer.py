"""Wrong implementations for chapter 06 (the Transformer): each is a mistake learners make.

The mutants are written as edits of the reference solutions (read from the exercises notebook),
so that each one differs from the reference in exactly the lines of its mistake; an edit that no
longer matches the reference fails loudly at import.
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCE = reference_solutions("06_transformer")


def sdpa(*edits: tuple[str, str]) -> str:
    return edited(REFERENCE, "scaled_dot_product_attention", *edits)


def positions(*edits: tuple[str, str]) -> str:
    return edited(REFERENCE, "sinusoidal_positions", *edits)


def ln(*edits: tuple[str, str]) -> str:
    return edited(REFERENCE, "layer_norm", *edits)


def mha(*edits: tuple[str, str]) -> str:
    return edited(REFERENCE, "MultiHeadAttention", *edits)


def block(*edits: tuple[str, str]) -> str:
    return edited(REFERENCE, "EncoderBlock", *edits)


SCALE = "scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., Tq, Tk)"
MASK_FILL = 'scores = scores.masked_fill(~mask, float("-inf"))'
ROW_FIX = "weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)"
SOFTMAX = "weights = torch.softmax(scores, dim=-1)  # (..., Tq, Tk): over the keys"
VAR = "var = (centred**2).mean(dim=dims, keepdim=True)  # biased, from the centred values"
NORM = "y = centred / torch.sqrt(var + eps)"
KPM = "keep = ~key_padding_mask[:, None, None, :]  # (B, 1, 1, Tk)"
SA_CALL = "x, x, x, key_padding_mask=src_key_padding_mask, attn_mask=src_mask"

MUTANTS = [
    # ------------------------------------------------------- scaled_dot_product_attention
    Mutant(
        name="sdpa_scale_by_sqrt_dv",
        cell="scaled_dot_product_attention",
        fails=["hidden_scaled_dot_product_attention_scale"],
        code=sdpa((SCALE, "scores = q @ k.transpose(-2, -1) / math.sqrt(v.shape[-1])")),
    ),
    Mutant(
        name="sdpa_scale_by_d",
        cell="scaled_dot_product_attention",
        fails=[
            "test_scaled_dot_product_attention",
            "hidden_scaled_dot_product_attention_scale",
            "hidden_scaled_dot_product_attention_mask_convention",
        ],
        code=sdpa((SCALE, "scores = q @ k.transpose(-2, -1) / d_k")),
    ),
    Mutant(
        name="sdpa_transpose_1_2",
        cell="scaled_dot_product_attention",
        fails=["hidden_scaled_dot_product_attention_batch_dims"],
        code=sdpa((SCALE, "scores = q @ k.transpose(1, 2) / math.sqrt(d_k)")),
    ),
    Mutant(
        name="sdpa_bmm",
        cell="scaled_dot_product_attention",
        fails=["hidden_scaled_dot_product_attention_batch_dims"],
        code=sdpa(
            (SCALE, "scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(d_k)"),
            ("return weights @ v, weights", "return torch.bmm(weights, v), weights"),
        ),
    ),
    Mutant(
        name="sdpa_mask_inverted",
        cell="scaled_dot_product_attention",
        fails=[
            "test_scaled_dot_product_attention",
            "hidden_scaled_dot_product_attention_mask_convention",
        ],
        code=sdpa(
            (MASK_FILL, 'scores = scores.masked_fill(mask, float("-inf"))'),
            (ROW_FIX, "weights = weights.masked_fill(mask.all(dim=-1, keepdim=True), 0.0)"),
        ),
    ),
    Mutant(
        name="sdpa_masked_fill_zero",
        cell="scaled_dot_product_attention",
        fails=[
            "test_scaled_dot_product_attention",
            "hidden_scaled_dot_product_attention_mask_convention",
        ],
        code=sdpa((MASK_FILL, "scores = scores.masked_fill(~mask, 0.0)")),
    ),
    Mutant(
        name="sdpa_nan_for_fully_masked_rows",
        cell="scaled_dot_product_attention",
        fails=["hidden_scaled_dot_product_attention_fully_masked"],
        code=sdpa((ROW_FIX, "pass")),
    ),
    Mutant(
        name="sdpa_softmax_by_hand_without_max",
        cell="scaled_dot_product_attention",
        fails=["hidden_scaled_dot_product_attention_large_scores"],
        code=sdpa(
            (
                SOFTMAX,
                "weights = torch.exp(scores) / torch.exp(scores).sum(dim=-1, keepdim=True)",
            )
        ),
    ),
    Mutant(
        name="sdpa_softmax_over_queries",
        cell="scaled_dot_product_attention",
        fails=[
            "test_scaled_dot_product_attention",
            "hidden_scaled_dot_product_attention_scale",
            "hidden_scaled_dot_product_attention_mask_convention",
        ],
        code=sdpa((SOFTMAX, "weights = torch.softmax(scores, dim=-2)")),
    ),
    Mutant(
        name="sdpa_calls_pytorch",
        cell="scaled_dot_product_attention",
        fails=["hidden_scaled_dot_product_attention_from_scratch"],
        code=sdpa(
            (
                "return weights @ v, weights",
                "return F.scaled_dot_product_attention(q, k, v, attn_mask=mask), weights",
            )
        ),
    ),
    # ------------------------------------------------------- causal_mask
    Mutant(
        name="causal_mask_float",
        cell="causal_mask",
        fails=["hidden_causal_mask_bool"],
        code=edited(
            REFERENCE,
            "causal_mask",
            (
                "torch.ones(T, T, dtype=torch.bool, device=device).tril()",
                "torch.ones(T, T, device=device).tril()",
            ),
        ),
    ),
    Mutant(
        name="causal_mask_upper",
        cell="causal_mask",
        fails=["test_causal_mask", "hidden_causal_mask_bool"],
        code=edited(REFERENCE, "causal_mask", (".tril()", ".triu()")),
    ),
    # ------------------------------------------------------- sinusoidal_positions
    Mutant(
        name="positions_concatenated",
        cell="sinusoidal_positions",
        fails=[
            "test_sinusoidal_positions",
            "hidden_sinusoidal_positions_interleaved",
            "hidden_sinusoidal_positions_frequencies",
        ],
        code=positions(
            (
                "pe[:, 0::2] = torch.sin(angle)  # even columns",
                "pe[:, : d_model // 2] = torch.sin(angle)",
            ),
            (
                "pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])  # odd columns",
                "pe[:, d_model // 2 :] = torch.cos(angle)",
            ),
        ),
    ),
    Mutant(
        name="positions_exponent_per_column",
        cell="sinusoidal_positions",
        fails=[
            "test_sinusoidal_positions",
            "hidden_sinusoidal_positions_interleaved",
            "hidden_sinusoidal_positions_frequencies",
        ],
        code=positions(
            (
                "pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])  # odd columns",
                "odd = torch.arange(1, d_model, 2, dtype=torch.float32)\n"
                "    pe[:, 1::2] = torch.cos(pos / 10000 ** (odd / d_model))",
            ),
        ),
    ),
    Mutant(
        name="positions_exponent_i_over_d",
        cell="sinusoidal_positions",
        fails=[
            "test_sinusoidal_positions",
            "hidden_sinusoidal_positions_interleaved",
            "hidden_sinusoidal_positions_frequencies",
        ],
        code=positions(
            (
                "angle = pos / 10000 ** (two_i / d_model)",
                "angle = pos / 10000 ** (two_i / 2 / d_model)",
            )
        ),
    ),
    # ------------------------------------------------------- layer_norm
    Mutant(
        name="layer_norm_unbiased_variance",
        cell="layer_norm",
        fails=["test_layer_norm", "hidden_layer_norm_biased_variance"],
        code=ln((VAR, "var = x.var(dim=dims, keepdim=True)")),
    ),
    Mutant(
        name="layer_norm_eps_outside_sqrt",
        cell="layer_norm",
        fails=["hidden_layer_norm_eps"],
        code=ln((NORM, "y = centred / (torch.sqrt(var) + eps)")),
    ),
    Mutant(
        name="layer_norm_fixed_eps",
        cell="layer_norm",
        fails=["hidden_layer_norm_eps"],
        code=ln((NORM, "y = centred / torch.sqrt(var + 1e-5)")),
    ),
    Mutant(
        name="layer_norm_last_axis_only",
        cell="layer_norm",
        fails=["hidden_layer_norm_normalized_shape"],
        code=ln(("dims = tuple(range(-len(normalized_shape), 0))", "dims = (-1,)")),
    ),
    Mutant(
        name="layer_norm_variance_from_squares",
        cell="layer_norm",
        fails=["hidden_layer_norm_stable"],
        code=ln((VAR, "var = (x**2).mean(dim=dims, keepdim=True) - mean**2")),
    ),
    Mutant(
        name="layer_norm_affine_only_with_both",
        cell="layer_norm",
        fails=["hidden_layer_norm_affine_optional"],
        code=ln(
            (
                "    if weight is not None:\n        y = y * weight\n"
                "    if bias is not None:\n        y = y + bias",
                "    if weight is not None and bias is not None:\n        y = y * weight + bias",
            )
        ),
    ),
    Mutant(
        name="layer_norm_calls_pytorch",
        cell="layer_norm",
        fails=["hidden_layer_norm_from_scratch"],
        code=ln(
            (
                "    return y\n",
                "    return F.layer_norm(x, tuple(normalized_shape), weight, bias, eps)\n",
            )
        ),
    ),
    # ------------------------------------------------------- MultiHeadAttention
    Mutant(
        name="mha_kv_projected_from_query",
        cell="MultiHeadAttention",
        fails=["hidden_MultiHeadAttention_cross"],
        code=mha(
            ("Tk = key.shape[1]", "Tk = query.shape[1]"),
            ("k = (key @ w_k.T + b_k)", "k = (query @ w_k.T + b_k)"),
            ("v = (value @ w_v.T + b_v)", "v = (query @ w_v.T + b_v)"),
        ),
    ),
    Mutant(
        name="mha_chunk_order_qvk",
        cell="MultiHeadAttention",
        fails=["test_MultiHeadAttention", "hidden_MultiHeadAttention_cross"],
        code=mha(("w_q, w_k, w_v = self.in_proj_weight", "w_q, w_v, w_k = self.in_proj_weight")),
    ),
    Mutant(
        name="mha_heads_split_without_transpose",
        cell="MultiHeadAttention",
        fails=["test_MultiHeadAttention", "hidden_MultiHeadAttention_cross"],
        code=mha(
            (
                "q = (query @ w_q.T + b_q).view(B, Tq, H, Dh).transpose(1, 2)",
                "q = (query @ w_q.T + b_q).view(B, H, Tq, Dh)",
            ),
            (
                "k = (key @ w_k.T + b_k).view(B, Tk, H, Dh).transpose(1, 2)",
                "k = (key @ w_k.T + b_k).view(B, H, Tk, Dh)",
            ),
            (
                "v = (value @ w_v.T + b_v).view(B, Tk, H, Dh).transpose(1, 2)",
                "v = (value @ w_v.T + b_v).view(B, H, Tk, Dh)",
            ),
            ("out = out.transpose(1, 2).reshape(B, Tq, E)", "out = out.reshape(B, Tq, E)"),
        ),
    ),
    Mutant(
        name="mha_key_padding_mask_not_inverted",
        cell="MultiHeadAttention",
        fails=["hidden_MultiHeadAttention_key_padding_mask", "hidden_MultiHeadAttention_attn_mask"],
        code=mha((KPM, "keep = key_padding_mask[:, None, None, :]")),
    ),
    Mutant(
        name="mha_key_padding_mask_on_queries",
        cell="MultiHeadAttention",
        fails=["hidden_MultiHeadAttention_key_padding_mask", "hidden_MultiHeadAttention_attn_mask"],
        code=mha((KPM, "keep = ~key_padding_mask[:, None, :, None]")),
    ),
    Mutant(
        name="mha_attn_mask_not_inverted",
        cell="MultiHeadAttention",
        fails=["hidden_MultiHeadAttention_attn_mask"],
        code=mha(("allowed = ~attn_mask", "allowed = attn_mask")),
    ),
    Mutant(
        name="mha_3d_attn_mask_heads_major",
        cell="MultiHeadAttention",
        fails=["hidden_MultiHeadAttention_attn_mask"],
        code=mha(
            (
                "attn_mask = attn_mask.view(B, H, Tq, Tk)",
                "attn_mask = attn_mask.view(H, B, Tq, Tk).transpose(0, 1)",
            )
        ),
    ),
    Mutant(
        name="mha_calls_pytorch",
        cell="MultiHeadAttention",
        fails=["hidden_MultiHeadAttention_from_scratch"],
        code=mha(
            (
                "return self.out_proj(out), weights.mean(dim=1)  # (B, Tq, E), (B, Tq, Tk)",
                "return F.multi_head_attention_forward(\n"
                "            query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1),\n"
                "            E, H, self.in_proj_weight, self.in_proj_bias, None, None, False,\n"
                "            0.0, self.out_proj.weight, self.out_proj.bias,\n"
                "            key_padding_mask=key_padding_mask, attn_mask=attn_mask,\n"
                "        )[0].transpose(0, 1), weights.mean(dim=1)",
            )
        ),
    ),
    # ------------------------------------------------------- EncoderBlock
    Mutant(
        name="block_ignores_norm_first",
        cell="EncoderBlock",
        fails=["hidden_EncoderBlock_pre_norm", "hidden_EncoderBlock_padding_mask"],
        code=block(("if self.norm_first:", "if False:")),
    ),
    Mutant(
        name="block_pre_norm_normalizes_the_residual",
        cell="EncoderBlock",
        fails=["hidden_EncoderBlock_pre_norm", "hidden_EncoderBlock_padding_mask"],
        code=block(
            ("x = x + sa(self.norm1(x))", "x = self.norm1(x)\n            x = x + sa(x)"),
            ("x = x + ff(self.norm2(x))", "x = self.norm2(x)\n            x = x + ff(x)"),
        ),
    ),
    Mutant(
        name="block_drops_padding_mask",
        cell="EncoderBlock",
        fails=["hidden_EncoderBlock_padding_mask"],
        code=block((SA_CALL, "x, x, x, attn_mask=src_mask")),
    ),
    Mutant(
        name="block_drops_src_mask",
        cell="EncoderBlock",
        fails=["hidden_EncoderBlock_src_mask"],
        code=block((SA_CALL, "x, x, x, key_padding_mask=src_key_padding_mask")),
    ),
    Mutant(
        name="block_no_relu",
        cell="EncoderBlock",
        fails=[
            "test_EncoderBlock",
            "hidden_EncoderBlock_pre_norm",
            "hidden_EncoderBlock_padding_mask",
            "hidden_EncoderBlock_src_mask",
        ],
        code=block(("self.linear2(torch.relu(self.linear1(x)))", "self.linear2(self.linear1(x))")),
    ),
]
