"""Run each pinned peer counter on a torch model and return its (figure, parameters) as exact integers.

The figure is what the tool prints as its total: fvcore's FlopCountAnalysis.total(), ptflops' MACs (both
backends), thop's ops, torchinfo's total_mult_adds, FlopCounterMode's get_total_flops(). Models run in eval mode
with batch 1 and no gradient, as a user would call the tools to count an inference.
"""

import contextlib
import io
import logging
import warnings

import torch


def _quiet():
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    stack.enter_context(torch.no_grad())
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    return stack


def numel(model):
    return sum(p.numel() for p in model.parameters())


def fvcore(model, shape):
    from fvcore.nn import FlopCountAnalysis, parameter_count
    with _quiet():
        analysis = FlopCountAnalysis(model, torch.zeros(1, *shape))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return int(analysis.total()), int(parameter_count(model)[""])


def _ptflops(model, shape, backend):
    from ptflops import get_model_complexity_info
    with _quiet():
        macs, params = get_model_complexity_info(model, tuple(shape), as_strings=False, backend=backend,
                                                 print_per_layer_stat=False, verbose=False)
    return int(macs), int(params)


def ptflops_pytorch(model, shape):
    return _ptflops(model, shape, "pytorch")


def ptflops_aten(model, shape):
    return _ptflops(model, shape, "aten")


def thop(model, shape):
    from thop import profile
    with _quiet():
        ops, params = profile(model, inputs=(torch.zeros(1, *shape),), verbose=False)
    assert ops == int(ops) and params == int(params)
    return int(ops), int(params)


def torchinfo(model, shape):
    from torchinfo import summary
    with _quiet():
        stats = summary(model, input_size=(1, *shape), verbose=0)
    return int(stats.total_mult_adds), int(stats.total_params)


def flopcounter(model, shape):
    from torch.utils.flop_counter import FlopCounterMode
    with _quiet():
        with FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, *shape))
    return int(counter.get_total_flops()), None


TOOLS = {"fvcore": fvcore, "ptflops-pytorch": ptflops_pytorch, "ptflops-aten": ptflops_aten, "thop": thop,
         "torchinfo": torchinfo, "flopcounter": flopcounter}


def run_all(build, shape, tools=TOOLS):
    """Each tool on a fresh model (thop and ptflops leave hooks and buffers behind)."""
    out = {}
    for name in tools:
        torch.manual_seed(0)
        model = build().eval()
        out[name] = TOOLS[name](model, shape)
    return out
