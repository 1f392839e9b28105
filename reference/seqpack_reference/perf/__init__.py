"""The Python side of the performance suite: PyTorch's own speed on the same matrix as seqpack's."""
