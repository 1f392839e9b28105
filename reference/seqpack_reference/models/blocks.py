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


class ResampleNorm(nn.Module):
    """LayerNorm of x, first stretched to output_dim by linear interpolation (align_corners) over
    the feature axis when the sizes differ, and with trainable_add scaled by sigmoid(mask) * 2."""

    def __init__(self, input_dim, output_dim=None, trainable_add=True):
        super().__init__()
        self.input_dim, self.output_dim = input_dim, output_dim or input_dim
        self.mask = nn.Parameter(torch.zeros(self.output_dim)) if trainable_add else None
        self.norm = nn.LayerNorm(self.output_dim)

    def forward(self, x):
        if self.input_dim != self.output_dim:
            leading = x.shape[:-1]
            rows = x.reshape(-1, 1, self.input_dim)
            x = nn.functional.interpolate(rows, self.output_dim, mode="linear", align_corners=True)
            x = x.reshape(*leading, self.output_dim)
        if self.mask is not None:
            x = x * torch.sigmoid(self.mask) * 2.0
        return self.norm(x)


class GatedResidualNetwork(nn.Module):
    """projection "linear" (a Linear when the sizes differ) or "interpolate" (a ResampleNorm named
    resample); an optional context enters through fc3, without bias."""

    def __init__(self, input_dim, output_dim, d_hidden=None, context_dim=None, dropout=0.1, activation="elu",
                 projection="linear"):
        super().__init__()
        hidden = d_hidden or input_dim
        self.fc1 = nn.Linear(input_dim, hidden)
        self.fc2 = nn.Linear(hidden, output_dim)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.fc3 = nn.Linear(context_dim, hidden, bias=False) if context_dim else None
        if input_dim == output_dim:
            self.project = nn.Identity()
        elif projection == "linear":
            self.project = nn.Linear(input_dim, output_dim)
        else:
            self.resample = ResampleNorm(input_dim, output_dim)
        self.glu1 = GatedLinearUnit(output_dim, dropout=dropout)
        self.norm = nn.LayerNorm(output_dim)
        self.activation = ACTIVATIONS[activation]()

    def forward(self, x, context=None):
        residual = self.resample(x) if hasattr(self, "resample") else self.project(x)
        x = self.fc1(x)
        if self.fc3 is not None:
            x = x + self.fc3(context)
        x = self.fc2(self.activation(x))
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


class VariableSelection(nn.Module):
    """Per-feature prescalers (Linear 1 -> d_hidden) and GRNs (-> d_model), mixed by softmax weights
    from one GRN over all prescaled features (with the context, when built with one). A single
    feature has weight 1 and no weight network; it ignores the context, as in the original."""

    def __init__(self, num_features, d_hidden=8, d_model=300, context_size=None, dropout=0.1):
        super().__init__()
        self.num_features = num_features
        self.prescalers = nn.ModuleList(nn.Linear(1, d_hidden) for _ in range(num_features))
        if num_features > 1:
            self.flattened_grn = GatedResidualNetwork(num_features * d_hidden, num_features,
                                                      d_hidden=min(d_model, num_features), context_dim=context_size,
                                                      dropout=dropout, projection="interpolate")
        self.single_grn = nn.ModuleList(
            GatedResidualNetwork(d_hidden, d_model, d_hidden=min(d_hidden, d_model), dropout=dropout,
                                 projection="interpolate") for _ in range(num_features))

    def forward(self, x, context=None):
        if self.num_features == 1:
            return self.single_grn[0](self.prescalers[0](x))
        prescaled = [prescaler(x[..., i:i + 1]) for i, prescaler in enumerate(self.prescalers)]
        outputs = torch.stack([grn(p) for grn, p in zip(self.single_grn, prescaled)], dim=-1)
        weights = torch.softmax(self.flattened_grn(torch.cat(prescaled, dim=-1), context), dim=-1).unsqueeze(-2)
        return (outputs * weights).sum(dim=-1)
