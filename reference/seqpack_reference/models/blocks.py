"""The building blocks the models share (transformertf nn/ at 8842cb8), with its parameter names."""
from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"elu": nn.ELU, "relu": nn.ReLU, "lrelu": nn.LeakyReLU, "gelu": nn.GELU, "tanh": nn.Tanh,
               "sigmoid": nn.Sigmoid}


class GatedLinearUnit(nn.Module):
    def __init__(self, input_dim, output_dim=None, dropout=0.0):
        super().__init__()
        output_dim = output_dim or input_dim
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.fc1 = nn.Linear(input_dim, 2 * output_dim)

    def forward(self, x):
        if self.dropout is not None:
            x = self.dropout(x)
        return nn.functional.glu(self.fc1(x), dim=-1)


class AddNorm(nn.Module):
    def __init__(self, size, trainable_add=True):
        super().__init__()
        self.mask = nn.Parameter(torch.zeros(size)) if trainable_add else None
        self.norm = nn.LayerNorm(size)

    def forward(self, x, y):
        if self.mask is not None:
            return self.norm(x + y * torch.sigmoid(self.mask) * 2.0)
        return self.norm(x + y)


class GateAddNorm(nn.Module):
    def __init__(self, input_dim, output_dim=None, dropout=0.0, trainable_add=False):
        super().__init__()
        output_dim = output_dim or input_dim
        self.glu = GatedLinearUnit(input_dim, output_dim, dropout)
        self.add_norm = AddNorm(output_dim, trainable_add=trainable_add)

    def forward(self, x, residual):
        return self.add_norm(self.glu(x), residual)


class GatedResidualNetwork(nn.Module):
    """The "linear" projection variant, without context (what the LSTM family uses)."""

    def __init__(self, input_dim, output_dim, d_hidden=None, dropout=0.1, activation="elu"):
        super().__init__()
        hidden = d_hidden or input_dim
        self.fc1 = nn.Linear(input_dim, hidden)
        self.fc2 = nn.Linear(hidden, output_dim)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.project = nn.Linear(input_dim, output_dim) if input_dim != output_dim else nn.Identity()
        self.glu1 = GatedLinearUnit(output_dim, dropout=dropout)
        self.norm = nn.LayerNorm(output_dim)
        self.activation = ACTIVATIONS[activation]()

    def forward(self, x):
        residual = self.project(x)
        x = self.fc2(self.activation(self.fc1(x)))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.norm(self.glu1(x) + residual)


class InterpretableMultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.1):
        super().__init__()
        self.num_heads = num_heads
        self.attention_dropout = dropout
        d_head = d_model // num_heads
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.query_layers = nn.ModuleList(nn.Linear(d_model, d_head) for _ in range(num_heads))
        self.key_layers = nn.ModuleList(nn.Linear(d_model, d_head) for _ in range(num_heads))
        self.value_layer = nn.Linear(d_model, d_head)
        self.output_layer = nn.Linear(d_head, d_model)

    def forward(self, query, key, value, mask=None):
        value = self.value_layer(value)
        heads = []
        for query_layer, key_layer in zip(self.query_layers, self.key_layers):
            q, k = query_layer(query), key_layer(key)
            scores = torch.bmm(q, k.transpose(-2, -1))
            scores.mul_(q.size(-1) ** -0.5)
            if mask is not None:
                scores.masked_fill_(mask, -1e9)
            weights = torch.softmax(scores, dim=-1)
            if self.attention_dropout > 0 and self.training:
                weights = nn.functional.dropout(weights, p=self.attention_dropout, training=True)
            heads.append(torch.bmm(weights, value))
        head = torch.stack(heads, dim=2).mean(dim=2) if self.num_heads > 1 else heads[0]
        output = self.output_layer(head)
        return output if self.dropout is None else self.dropout(output)


class MLP(nn.Module):
    def __init__(self, input_dim, d_hidden, output_dim=1, dropout=0.1, activation="relu"):
        super().__init__()
        layers, previous = [], input_dim
        for width in ([d_hidden] if isinstance(d_hidden, int) else d_hidden):
            layers += [nn.Linear(previous, width), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            previous = width
        layers.append(nn.Linear(previous, output_dim))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x):
        return self.mlp(x)
