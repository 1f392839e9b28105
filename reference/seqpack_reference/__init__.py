"""seqpack's oracle: transformertf's semantics re-stated on PyTorch, and the golden-case generator.

Nothing here is seqpack: it is the independent side that seqpack is checked against.
"""
