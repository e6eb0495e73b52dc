"""Counting a network: each layer's rows under every variant, the totals, and latency depth.

Layers of one kind (equal fields but name, place and edges) cost the same, so each kind is counted once:
a 100,000-layer network of repeated blocks costs a few hundred counts. A variant starts from the standard
rows and recounts only the layers it rebuilds, through its convolution type's realization steps.
"""

from __future__ import annotations

from fractions import Fraction
from operator import itemgetter
from typing import Iterable

from hetcalc.analysis.options import TypePart
from hetcalc.analysis.replace import Plan
from hetcalc.analysis.results import LayerRows, Row, Sums, VariantResult
from hetcalc.convtypes import CONV_TYPES, Piece, fixed_cost, se_cost
from hetcalc.convtypes.parts import layer_part
from hetcalc.convtypes.steps import step_pieces
from hetcalc.counting.convention import Convention
from hetcalc.counting.modules import MODULE_RULES, module_delta
from hetcalc.network.graph import Add, Conv, Network

NO_SUMS: Sums = (0, 0, 0, 0)


def sum_pieces(pieces: Iterable[Piece], convention: Convention) -> Sums:
    flops = params = macs = depth = 0
    for piece in pieces:
        flops += convention.flops(piece)
        params += convention.param_count(piece)
        macs += piece.macs
        depth += piece.depth
    return flops, params, macs, depth


def add_sums(a: Sums, b: Sums) -> Sums:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]


def scaled(sums: Sums, ratio: Fraction) -> Sums:
    """Ratio accounting: counts times a closed-form ratio, rounded to the nearest integer."""
    flops, params, macs, depth = sums
    return round(flops * ratio), round(params * ratio), round(macs * ratio), depth


_COST_FIELDS: dict = {}


def _cost_fields(cls):
    """A function from a layer's field dict to the values its cost can depend on: all but its name, its
    place in the spec and its edges (counted by number)."""
    names = [name for name in cls.__dataclass_fields__ if name not in ("name", "where", "inputs")]
    return itemgetter(*names) if names else (lambda fields: ())


class Counter:
    """One network under one convention: the standard rows once, then each variant's rebuilt rows."""

    def __init__(self, network: Network, convention: Convention, plan: Plan, se: int | None) -> None:
        self.network, self.convention, self.plan, self.se = network, convention, plan, se
        self.kind_ids: dict = {}
        self.kinds = [self.kind_of(layer) for layer in network.layers]
        self.std_sums = self._standard_sums()
        self.se_sums = self._se_sums()
        self.std_rows = [Row(False, "standard" if isinstance(layer, Conv) else layer.kind, None,
                             add_sums(std, extra) if se else std, std[0] + extra[0], None)
                         for layer, std, extra in zip(network.layers, self.std_sums, self.se_sums)]
        self.std_depths = [row.sums[3] for row in self.std_rows]
        self.std_totals = (sum(row.sums[0] for row in self.std_rows), sum(row.sums[1] for row in self.std_rows),
                           sum(row.sums[2] for row in self.std_rows), network.longest_path(self.std_depths))
        self.memo: dict = {}

    def kind_of(self, layer) -> int | None:
        """A small integer naming the layer's cost class (None for a layer with an unhashable field)."""
        fields = _COST_FIELDS.get(type(layer))
        if fields is None:
            fields = _COST_FIELDS[type(layer)] = _cost_fields(type(layer))
        kind = (type(layer), len(getattr(layer, "inputs", ())), fields(layer.__dict__))
        try:
            return self.kind_ids.setdefault(kind, len(self.kind_ids))  # hashed once, not per lookup
        except TypeError:
            return None

    def _standard_sums(self) -> list[Sums]:
        memo: dict = {}
        out = []
        for layer, kind in zip(self.network.layers, self.kinds):
            hit = memo.get(kind) if kind is not None else None
            if hit is None:
                hit = sum_pieces(fixed_cost(layer), self.convention)
                if kind is not None:
                    memo[kind] = hit
            out.append(hit)
        facts = self.network.meta.get("modules")
        if facts and self.convention.preset in MODULE_RULES:  # a torch module: what its classes change
            for i, (layer, parts) in enumerate(zip(self.network.layers, facts)):
                flops, params = module_delta(self.convention.preset, parts, fixed_cost(layer)[0], self.convention.ops)
                if flops or params:
                    f, p, m, d = out[i]
                    out[i] = (f + flops, p + params, m, d)
        return out

    def _se_sums(self) -> list[Sums]:
        se, layers = self.se, self.network.layers
        if not se:
            return [NO_SUMS] * len(layers)
        trunk = self.network.trunk()
        return [sum_pieces(se_cost(layer.out_shape[0], layer.out_shape[1] * layer.out_shape[2], se), self.convention)
                if (isinstance(layer, Conv) and i in trunk) or isinstance(layer, Add) else NO_SUMS
                for i, layer in enumerate(layers)]

    def rebuilt_row(self, key: str, part: TypePart, i: int) -> Row:
        """Layer i's row when variant `key` rebuilds it."""
        ctype, layer = CONV_TYPES[key], self.network.layers[i]
        std, extra = self.std_sums[i], self.se_sums[i]
        own = layer.P if part.own else None
        if ctype.groups_part and own == "N":  # as for --P N: a group count must divide M
            own = "M"
        p = None if ctype.part is None else layer_part(own if own is not None else part.value, layer)
        if ctype.exact_ratio is not None and self.convention.hetconv == "ratio":
            ratio = ctype.exact_ratio(p, self.plan.ratio_k2 if layer.K == 1 else layer.kernel[0] * layer.kernel[1])
            sums, closed = scaled(std, ratio), ratio
        else:
            sums, closed = self._realized(ctype, p, layer)
        tag = key + (f" {ctype.part}={p}" if ctype.part else "")
        return Row(True, tag, p, add_sums(sums, extra) if self.se else sums, std[0] + extra[0], closed)

    def _realized(self, ctype, p: int | None, layer: Conv) -> tuple[Sums, Fraction]:
        kind = (ctype.key, p, layer.in_shape, layer.out_shape, layer.kernel, layer.groups, layer.bias, layer.bn,
                layer.act)
        hit = self.memo.get(kind)
        if hit is None:
            steps = ctype.realize(layer, p, pointwise_bias=self.convention.pointwise_bias)
            hit = self.memo[kind] = sum_pieces(step_pieces(steps), self.convention), ctype.closed_form(layer, p)
        return hit

    def ratio_accounted(self, key: str) -> bool:
        return CONV_TYPES[key].exact_ratio is not None and self.convention.hetconv == "ratio"

    def variant_rows(self, key: str, part: TypePart) -> tuple[list[Row], int, Sums]:
        """The rows of variant `key`, the number of layers it rebuilds and its totals (flops, params, macs, depth)."""
        if key == "standard":  # a layer no variant rebuilds has the same row in every variant
            return self.std_rows, 0, self.std_totals
        flags = self.plan.ratio_flags if self.ratio_accounted(key) else self.plan.flags
        rows = list(self.std_rows)
        flops, params, macs, depth = self.std_totals
        depths = None
        rebuilt = [i for i, flag in enumerate(flags) if flag]
        row_of: dict = {}  # rebuilt layers of one kind get the same row
        for i in rebuilt:
            kind = self.kinds[i]
            row_key = None if kind is None else (kind, self.se_sums[i]) if self.se else kind
            row = row_of.get(row_key) if row_key is not None else None
            if row is None:
                row = self.rebuilt_row(key, part, i)
                if row_key is not None:
                    row_of[row_key] = row
            before = rows[i].sums
            flops += row.sums[0] - before[0]
            params += row.sums[1] - before[1]
            macs += row.sums[2] - before[2]
            if row.sums[3] != before[3]:
                if depths is None:
                    depths = list(self.std_depths)
                depths[i] = row.sums[3]
            rows[i] = row
        if depths is not None:  # the rebuilt layers are deeper: the longest path may change
            depth = self.network.longest_path(depths)
        return rows, len(rebuilt), (flops, params, macs, depth)

    def variant_result(self, key: str, part: TypePart, per_layer: bool) -> VariantResult:
        rows, rebuilt, (flops, params, macs, depth) = self.variant_rows(key, part)
        ctype = CONV_TYPES[key]
        s_flops, s_params, _, s_depth = self.std_totals
        return VariantResult(
            variant=key, label=label(key, part.value, per_layer),
            P=part.value if ctype.part == "P" else None,
            G=part.value if ctype.part == "G" else ctype.fixed_groups,
            flops=flops, params=params, macs=macs, latency_depth=depth, added_latency=depth - s_depth,
            speedup=s_flops / flops if flops else float("inf"),
            flops_reduction=100.0 * (s_flops - flops) / s_flops if s_flops else 0.0,
            params_reduction=100.0 * (s_params - params) / s_params if s_params else 0.0,
            replaced_layers=rebuilt, layers=LayerRows(self.network.layers, rows), part=part.value)


def label(key: str, part, per_layer: bool = False) -> str:
    """A variant's display name: 'HetConv (P=4)', 'GWC+PWC (G=M, per-layer)', 'DWC+PWC'."""
    ctype = CONV_TYPES[key]
    if ctype.part and part is not None:
        return f"{ctype.label} ({ctype.part}={part}{', per-layer' if per_layer else ''})"
    return ctype.label
