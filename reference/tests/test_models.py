"""The models and their descriptors (models/registry.py): every model has one, its small
configuration builds and runs, and the behaviours docs/differences.md states for the models."""
import inspect

import pytest
import torch

from seqpack_reference import models
from seqpack_reference.models import MODEL_SPECS, SPECS, lstm_family, small_params

# The original's output_dim defaults (transformertf models/*/_model.py at 8842cb8).
ORIGINAL_OUTPUT_DIM = {"lstm": 1, "tft": 7}
B, TE, TD = 4, 7, 5


def inputs_for(spec, params, gen):
    past = torch.randn(B, TE, params["num_past_features"], generator=gen, dtype=torch.float64)
    future = torch.randn(B, TD, params["num_future_features"], generator=gen, dtype=torch.float64)
    given = {spec.inputs[0]: past, spec.inputs[1]: future, "encoder_lengths": torch.tensor([7, 3, 5, 1]),
             "decoder_lengths": torch.tensor([5, 2, 4, 1])}
    if spec.static_covariates is not None:
        given["static_covariates"] = spec.static_covariates(given["encoder_lengths"], params, torch.float64)
    return given


def test_every_model_class_has_one_descriptor():
    classes = {obj for obj in vars(models).values()
               if inspect.isclass(obj) and issubclass(obj, torch.nn.Module)}
    assert sorted(c.__name__ for c in classes) == sorted(s.model_class.__name__ for s in SPECS)
    assert len(MODEL_SPECS) == len(SPECS)
    for spec in SPECS:
        assert spec.op == "model." + spec.name and spec.family in ORIGINAL_OUTPUT_DIM
        assert "small" in spec.configs
        forward = list(inspect.signature(spec.model_class.forward).parameters)[1:]
        assert [n for n in forward if n in spec.inputs] == list(spec.inputs), spec.op


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_small_configuration_runs_with_the_original_output_width(spec):
    params = small_params(spec, TE, TD)
    torch.manual_seed(0)
    model = spec.model_class(**params).double().eval()
    output = model(**inputs_for(spec, params, torch.Generator().manual_seed(1)))
    assert output.shape == (B, TD, ORIGINAL_OUTPUT_DIM[spec.family])
    assert torch.isfinite(output).all()


def test_required_params_are_the_constructors_without_defaults():
    assert MODEL_SPECS["model.tft"].required_params == {"num_past_features", "num_future_features",
                                                        "ctxt_seq_len", "tgt_seq_len"}
    assert MODEL_SPECS["model.attention_lstm"].required_params == {"num_past_features", "num_future_features"}


def test_tft_and_pftft_default_to_no_static_features():
    # As the original's model classes; their Lightning modules pass 1, and so do the goldens.
    for model_class, extra in ((models.TemporalFusionTransformer, {"ctxt_seq_len": 7, "tgt_seq_len": 5}),
                               (models.PFTemporalFusionTransformer, {})):
        model = model_class(3, 2, d_model=8, d_hidden_continuous=4, num_heads=2, **extra)
        assert not any(name.startswith("static_vs.") for name in model.state_dict())
        with pytest.raises(ValueError, match="num_static_features = 0"):
            model(torch.zeros(1, 7, 3), torch.zeros(1, 5, 2), static_covariates=torch.zeros(1, 1))
        one = model_class(3, 2, d_model=8, d_hidden_continuous=4, num_heads=2, num_static_features=1, **extra)
        assert one.state_dict()["static_vs.prescalers.0.weight"].shape == (4, 1)
    for spec in SPECS:
        assert spec.static_params == ({"num_static_features": 1} if spec.static_covariates else {})


def test_static_covariates_from_the_lengths_as_the_lightning_modules_make_them():
    lengths = torch.tensor([7, 3])
    tft = MODEL_SPECS["model.tft"].static_covariates(lengths, {"ctxt_seq_len": 7}, torch.float64)
    # 2 L / ctxt_seq_len - 1: 7 -> 1, 3 -> -1/7.
    assert tft.shape == (2, 1) and tft.reshape(-1).tolist() == pytest.approx([1.0, -1 / 7])
    pftft = MODEL_SPECS["model.pftft"].static_covariates(lengths, {}, torch.float64)
    assert pftft.reshape(-1).tolist() == pytest.approx([1.0, 3 / 7])  # L over the batch's longest
    zeros = MODEL_SPECS["model.pftft"].static_covariates(torch.tensor([0, 0]), {}, torch.float64)
    assert zeros.reshape(-1).tolist() == [0.0, 0.0]  # the longest clamped to 1: no 0 / 0
    assert MODEL_SPECS["model.xtft"].static_covariates is None


def test_the_tft_encoder_padding_is_read_as_zeros():
    spec = MODEL_SPECS["model.tft"]
    params = small_params(spec, TE, TD)
    torch.manual_seed(0)
    model = spec.model_class(**params).double().eval()
    given = inputs_for(spec, params, torch.Generator().manual_seed(2))
    past = given["past_covariates"].clone()
    for row, length in enumerate([7, 3, 5, 1]):  # right-aligned: the padding is the first T - L steps
        past[row, : TE - length] = 0
    noisy = past.clone()
    noisy[1, : TE - 3] = 5.0
    assert torch.equal(model(**{**given, "past_covariates": past}), model(**{**given, "past_covariates": noisy}))


def test_xtft_refuses_static_covariates():
    model = models.xTFT(3, 2, d_model=8, d_hidden_continuous=4, num_heads=2)
    with pytest.raises(ValueError, match="static_covariates"):
        model(torch.zeros(1, 7, 3), torch.zeros(1, 5, 2), static_covariates=torch.zeros(1, 1))


def test_a_packed_row_of_length_zero_runs_no_lstm_step():
    # Its output is zero and its state stays the initial one (zeros), as if the row were absent.
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(2, 3, batch_first=True).double()
    x = torch.ones(2, 4, 2, dtype=torch.float64)
    out, (h, c) = lstm_family.run_lstm(lstm, x, torch.tensor([2, 0]), "always", encoder=False)
    assert torch.equal(out[1], torch.zeros(4, 3, dtype=torch.float64))
    assert torch.equal(h[:, 1], torch.zeros(1, 3, dtype=torch.float64))
    assert torch.equal(c[:, 1], torch.zeros(1, 3, dtype=torch.float64))
    assert torch.equal(out[0, 2:], torch.zeros(2, 3, dtype=torch.float64))  # past its length: padding
    assert not torch.equal(out[0, :2], torch.zeros(2, 3, dtype=torch.float64))
