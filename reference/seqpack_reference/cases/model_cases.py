"""Golden cases for the LSTM-family models: float64, dropout 0, packing always and never, with
the output, the loss (the model's default criterion through calc_loss) and, for the small
configurations, the gradient of every parameter. The original's default sizes appear once per
model, forward and loss only, to keep the goldens small.

Every case also says what seqpack's padding-free rerun (`packing = padding_free`, which computes
the packed path's results at the real steps only) may compare with it: `padding_free_check`."""
from __future__ import annotations

import inspect
import zlib

import torch

from .. import losses, packing_policy
from ..golden import Case
from ..models import MODEL_SPECS, lstm_family, specs

TOL = {"rtol": 1e-10, "atol": 1e-10}
PAST, FUTURE = 3, 2
ENCODER_LENGTHS, DECODER_LENGTHS = [7, 3, 5, 1], [5, 2, 4, 1]

def _seed(name):
    return zlib.crc32(name.encode())


def _left_aligned(lengths, steps, features, gen):
    x = torch.randn(len(lengths), steps, features, generator=gen, dtype=torch.float64)
    for row, length in enumerate(lengths):
        x[row, length:] = 0
    return x


def model_inputs(name, output_dim, lengths_as_column=False, encoder_lengths=ENCODER_LENGTHS,
                 decoder_lengths=DECODER_LENGTHS):
    gen = torch.Generator().manual_seed(_seed(name + "/inputs"))
    inputs = {
        "past_sequence": _left_aligned(encoder_lengths, max(encoder_lengths), PAST, gen),
        "future_sequence": _left_aligned(decoder_lengths, max(decoder_lengths), FUTURE, gen),
        "target": torch.randn(len(decoder_lengths), max(decoder_lengths), output_dim, generator=gen,
                              dtype=torch.float64),
    }
    for key, values in (("encoder_lengths", encoder_lengths), ("decoder_lengths", decoder_lengths)):
        t = torch.tensor(values)
        inputs[key] = t.reshape(-1, 1).to(torch.float32) if lengths_as_column else t
    return inputs


def _has_causal_attention(op):
    return "causal_attention" in inspect.signature(MODEL_SPECS[op].model_class).parameters


def padding_free_check(op, model, params, inputs, criterion):
    """What the padding-free rerun compares on this case: the output at the decoder's real steps
    (zeros expected at the padding) always; the loss and every gradient too when the loss is
    masked (padding-free computes the loss over the real steps only). Or why the case cannot be
    compared: {"skip": reason}."""
    packing = packing_policy.resolve(params["packing"], MODEL_SPECS[op].name, inputs["past_sequence"],
                                     inputs.get("encoder_lengths"))
    packing = "always" if packing == "padding_free" else packing  # the packed path's results
    for key, sequence in (("encoder_lengths", "past_sequence"), ("decoder_lengths", "future_sequence")):
        lengths = inputs.get(key)
        full = lengths is None or bool((lengths.reshape(-1) == inputs[sequence].size(1)).all())
        if not full and not lstm_family._packs(packing, lengths):
            return {"skip": f"the reference ran this LSTM padded (packing {params['packing']} -> {packing}): its state "
                            "runs through the padding, which padding-free does not compute"}
    if _has_causal_attention(op) and model.causal_attention and "encoder_lengths" in inputs:
        encoder = inputs["encoder_lengths"].reshape(-1)
        decoder = inputs["decoder_lengths"].reshape(-1)
        if bool(((encoder == 0) & (decoder > 0)).any()):
            return {"skip": "a row of encoder length 0 under causal attention: its first decoder step has no key, "
                            "and the original averages the padding there (docs/padding-free.md)"}
    if criterion["criterion"] in losses.OWN_CRITERIA:
        return {"compare": ["output", "loss", "gradients"]}
    return {"compare": ["output"],
            "why": f"{criterion['criterion']} is not masked: the golden's loss includes the padding, which "
                   "padding-free leaves out"}


def case_name(spec, config, packing):
    return f"{spec.name}/{config}_packing_{packing}"


def build_model(op, params, seed):
    torch.manual_seed(seed)
    model = MODEL_SPECS[op].model_class(PAST, FUTURE, **params).double()
    model.eval()
    return model


def padding_free_loss(output, target, decoder_lengths, criterion):
    """seqpack's loss on the padding-free path: the criterion over the real steps alone, no mask."""
    real = torch.arange(output.size(1)).unsqueeze(0) < decoder_lengths.reshape(-1, 1)
    return losses.calc_loss(output[real].unsqueeze(0), target[real].unsqueeze(0), None, use_loss_masking=False,
                            **criterion)


def run_model(op, model, inputs, backward, criterion=None):
    """The model's outputs as seqpack eval writes them (the model's default criterion unless given)."""
    model.zero_grad()
    output = model(**{k: inputs[k] for k in MODEL_SPECS[op].inputs if k in inputs})
    criterion = dict(criterion or model.default_criterion)
    if getattr(model, "took_padding_free", False) and "decoder_lengths" in inputs:
        loss = padding_free_loss(output, inputs["target"], inputs["decoder_lengths"], criterion)
    else:
        loss = losses.calc_loss(output, inputs["target"], inputs.get("decoder_lengths"), **criterion)
    expected = {"output": output.detach(), "loss": loss.detach()}
    if backward:
        loss.backward()
        for name, p in model.named_parameters():
            expected["grad." + name] = p.grad if p.grad is not None else torch.zeros_like(p)
    return expected


def _case(op, config, params, packing, backward=True, lengths_as_column=False, criterion=None, lengths=None,
          without_lengths=False):
    """criterion: {"criterion": name} in place of the model's default (a params entry for seqpack);
    lengths: (encoder lengths, decoder lengths) in place of ENCODER_LENGTHS, DECODER_LENGTHS;
    without_lengths: the model is given no lengths at all."""
    short = MODEL_SPECS[op].name
    name = case_name(MODEL_SPECS[op], config, packing)
    full_params = {"num_past_features": PAST, "num_future_features": FUTURE, "dropout": 0.0, **params,
                   "packing": packing}
    model = build_model(op, {k: v for k, v in full_params.items() if k not in ("num_past_features",
                                                                               "num_future_features")},
                        _seed(name))
    inputs = model_inputs(name, params.get("output_dim", 1), lengths_as_column,
                          *(lengths or (ENCODER_LENGTHS, DECODER_LENGTHS)))
    if without_lengths:
        inputs = {k: v for k, v in inputs.items() if k not in ("encoder_lengths", "decoder_lengths")}
    expected = run_model(op, model, inputs, backward, criterion)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    checks = (f"{short} {config} {params}, packing {packing}"
              + (f", criterion {criterion['criterion']}" if criterion else "") + ": output, loss"
              + (" and every parameter's gradient" if backward else ""))
    padding_free = padding_free_check(op, model, full_params, inputs, criterion or model.default_criterion)
    return Case(name, op, checks, inputs, {**full_params, **(criterion or {})}, expected=expected, backward=backward,
                weights=weights, padding_free=padding_free, **TOL)


def _zero_length_case(op, config, params, criterion=None):
    """Rows of length 0 in the packed path: the expected outputs are the model run on each sample
    alone (B = 1, same padded T), where a row of length 0 runs no LSTM step, concatenated; the
    loss and gradients come from that concatenation. params may turn causal attention off and
    criterion replace the default: the twin that the padding-free rerun can compare whole."""
    short = MODEL_SPECS[op].name
    variant = ("_masked_loss" if criterion else "") + ("_non_causal" if params.get("causal_attention") is False else "")
    name = f"{short}/{config}_zero_length_rows{variant}_packed"
    full_params = {"num_past_features": PAST, "num_future_features": FUTURE, "dropout": 0.0, **params,
                   "packing": "always"}
    model = build_model(op, {k: v for k, v in full_params.items() if k not in ("num_past_features",
                                                                               "num_future_features")},
                        _seed(name))
    encoder_lengths, decoder_lengths = [7, 0, 5, 0], [5, 2, 0, 0]
    gen = torch.Generator().manual_seed(_seed(name + "/inputs"))
    inputs = {
        "past_sequence": _left_aligned(encoder_lengths, max(encoder_lengths), PAST, gen),
        "future_sequence": _left_aligned(decoder_lengths, max(decoder_lengths), FUTURE, gen),
        "target": torch.randn(4, max(decoder_lengths), params.get("output_dim", 1), generator=gen,
                              dtype=torch.float64),
        "encoder_lengths": torch.tensor(encoder_lengths),
        "decoder_lengths": torch.tensor(decoder_lengths),
    }
    output = torch.cat([model(**{k: inputs[k][row:row + 1] for k in MODEL_SPECS[op].inputs}) for row in range(4)])
    used = dict(criterion or model.default_criterion)
    loss = losses.calc_loss(output, inputs["target"], inputs["decoder_lengths"], **used)
    loss.backward()
    expected = {"output": output.detach(), "loss": loss.detach()}
    for param_name, p in model.named_parameters():
        expected["grad." + param_name] = p.grad if p.grad is not None else torch.zeros_like(p)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    checks = (f"{short} {config}{variant.replace('_', ' ')}, packing always, encoder lengths {encoder_lengths} and "
              f"decoder lengths {decoder_lengths}: each row as the sample alone (a row of length 0 runs no LSTM "
              "step); output, loss and every parameter's gradient")
    padding_free = padding_free_check(op, model, full_params, inputs, used)
    return Case(name, op, checks, inputs, {**full_params, **(criterion or {})}, expected=expected, backward=True,
                weights=weights, padding_free=padding_free, **TOL)


# transformertf's masked MSELoss, for the models whose default loss (torch's) is not masked: the
# padding-free rerun compares the loss and gradients of these twins.
MASKED_LOSS = {"criterion": "MSELoss"}


def _padding_free_twins(spec):
    """The cases that let the padding-free rerun compare a model's loss and gradients, and rows of
    length 0, whole: the model's default loss when it is masked, else MASKED_LOSS; causal attention
    off for rows of length 0 (under it, a decoder step with no encoder has no key to attend)."""
    small = spec.configs["small"].model
    masked = MODEL_SPECS[spec.op].model_class.default_criterion["criterion"] in losses.OWN_CRITERIA
    criterion = None if masked else MASKED_LOSS
    out = [] if masked else [_masked_loss_case(spec, small)]
    zero_params = {**small, "causal_attention": False} if _has_causal_attention(spec.op) else small
    if criterion or zero_params is not small:
        out.append(_zero_length_case(spec.op, "small", zero_params, criterion))
    return out


def _masked_loss_case(spec, params):
    return _case(spec.op, "small_masked_loss", params, "always", criterion=MASKED_LOSS)


# Lengths where the padding-free path's buckets (rows grouped by length, docs/padding-free.md) are
# one step apart, or where one row alone differs from the rest: the edges a bucket boundary can
# miss by one.
BUCKET_EDGES = {
    "lengths_one_apart": ([5, 4, 3, 2], [4, 3, 2, 1]),
    "all_lengths_equal_but_one": ([6, 6, 2, 6], [4, 1, 4, 4]),
    "all_lengths_equal_but_one_a_step_shorter": ([6, 6, 5, 6], [4, 3, 4, 4]),
    "all_lengths_equal_but_one_a_step_longer": ([5, 6, 5, 5], [3, 3, 4, 3]),
}


def _bucket_edge_cases(spec):
    """The small configuration, packed, with each BUCKET_EDGES batch; under a masked loss, so that the
    padding-free rerun compares output, loss and every gradient."""
    small = spec.configs["small"].model
    masked = MODEL_SPECS[spec.op].model_class.default_criterion["criterion"] in losses.OWN_CRITERIA
    return [_case(spec.op, f"small_{label}", small, "always", criterion=None if masked else MASKED_LOSS,
                  lengths=lengths)
            for label, lengths in BUCKET_EDGES.items()]


def _without_lengths_case(spec):
    """No lengths given with packing "always": the original has nothing to pack by and runs every
    LSTM padded (its padding counted as data), whatever `packing` says."""
    return _case(spec.op, "small_without_lengths", spec.configs["small"].model, "always", without_lengths=True)


def cases():
    lstm_models = specs("lstm")
    out = [_zero_length_case(spec.op, "small", spec.configs["small"].model) for spec in lstm_models]
    out += [case for spec in lstm_models for case in _padding_free_twins(spec)]
    out += [case for spec in lstm_models for case in _bucket_edge_cases(spec)]
    out += [_without_lengths_case(spec) for spec in lstm_models]
    for spec in lstm_models:
        for config, golden_config in spec.configs.items():
            for packing in ("always", "never"):
                out.append(_case(spec.op, config, golden_config.model, packing, lengths_as_column=config == "small"))
        out.append(_case(spec.op, "defaults", {}, "auto", backward=False))
        # The calibrated policy on this batch (B = 4, T = 7): the path perf/packing_cost_model.json picks,
        # for the models it was fitted on (a model added since has no coefficients).
        if spec.name in packing_policy.load()["models"]:
            out.append(_case(spec.op, "small", spec.configs["small"].model, "calibrated"))
    return out
