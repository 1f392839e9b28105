"""The jagged peer (seqpack_reference.perf.jagged_peer) computes TransformerLSTM's packed path at the
real decoder steps, forward and gradients, in float64, for lengths that leave rows one step long,
full, and in between; it refuses a length outside [1, T]."""
import pytest
import torch

from seqpack_reference.models import TransformerLSTM
from seqpack_reference.perf import jagged_peer

TE, TD = 9, 4


# Lengths whose longest rows fill the window, and lengths that leave it partly empty (the peer's
# attention then runs on a batch narrower than the window).
LENGTHS = {"full": ([9, 1, 5, 7, 2], [4, 1, 2, 4, 3]), "short": ([6, 1, 5, 3, 2], [3, 1, 2, 3, 1])}


def _case(seed, causal=True, lengths="full"):
    torch.manual_seed(seed)
    model = TransformerLSTM(3, 2, d_model=8, num_layers=2, num_transformer_blocks=2, num_heads=2, dropout=0.0,
                            causal_attention=causal, packing="always").double()
    encoder_lengths, decoder_lengths = (torch.tensor(v) for v in LENGTHS[lengths])
    past = torch.randn(5, TE, 3, dtype=torch.float64) * (torch.arange(TE) < encoder_lengths[:, None]).unsqueeze(-1)
    future = torch.randn(5, TD, 2, dtype=torch.float64) * (torch.arange(TD) < decoder_lengths[:, None]).unsqueeze(-1)
    return model, past, future, encoder_lengths, decoder_lengths


@pytest.mark.parametrize("lengths", sorted(LENGTHS))
@pytest.mark.parametrize("causal", [True, False])
def test_the_peer_is_the_packed_path_at_the_real_steps(causal, lengths):
    model, past, future, enc, dec = _case(0, causal, lengths)
    reference = model(past, future, enc, dec)
    real = torch.arange(TD) < dec[:, None]
    jagged = jagged_peer.forward(model, past, future, enc, dec)
    assert jagged.shape == (int(dec.sum()), 1)
    torch.testing.assert_close(jagged, reference[real], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lengths", sorted(LENGTHS))
def test_its_gradients_are_the_packed_paths(lengths):
    model, past, future, enc, dec = _case(1, lengths=lengths)
    target = torch.randn(5, TD, 1, dtype=torch.float64)
    real = torch.arange(TD) < dec[:, None]
    ((model(past, future, enc, dec)[real] - target[real]) ** 2).mean().backward()
    want = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    loss = ((jagged_peer.forward(model, past, future, enc, dec) - jagged_peer.target_values(target, dec)) ** 2).mean()
    loss.backward()
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, want[name], rtol=1e-9, atol=1e-12, msg=name)


def test_a_length_outside_the_window_is_refused():
    model, past, future, enc, dec = _case(2)
    for bad in (torch.tensor([9, 0, 5, 7, 2]), torch.tensor([10, 1, 5, 7, 2])):
        with pytest.raises(ValueError, match="lengths"):
            jagged_peer.forward(model, past, future, bad, dec)
