"""Every public function refuses an unknown keyword with OptionError naming it, never Python's TypeError
(docs/api.md, "Errors"): one shared check, hetcalc/core/keywords.py."""

from __future__ import annotations

import inspect

import pytest

import hetcalc
from hetcalc.measure import measure

# the callables of hetcalc.__all__ (functions and record classes; not the exceptions), plus
# hetcalc.measure.measure (documented beside build_module)
PUBLIC = {name: value for name, value in ((n, getattr(hetcalc, n)) for n in hetcalc.__all__)
          if callable(value) and not (isinstance(value, type) and issubclass(value, BaseException))}
PUBLIC["measure"] = measure


def test_every_public_function_is_covered():
    assert {"analyze", "build_module", "builtin_names", "load_spec_file", "load_spec_text", "resolve",
            "Convention", "ConvType", "Network", "Report", "Piece"} <= set(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_an_unknown_keyword_is_an_option_error_naming_it(name):
    with pytest.raises(hetcalc.OptionError, match=rf"^{name}\(\) got an unknown keyword 'bogus_option'"):
        PUBLIC[name](bogus_option=1)


@pytest.mark.parametrize("name, typo, meant", [
    ("analyze", "Pat", "P_at"), ("build_module", "hetconv_imp", "hetconv_impl"), ("resolve", "strct", "strict"),
    ("load_spec_text", "sorce", "source"), ("Convention", "flop_per_mac", "flops_per_mac"),
    ("measure", "round", "rounds"),
])
def test_a_near_miss_gets_did_you_mean(name, typo, meant):
    with pytest.raises(hetcalc.OptionError, match=rf"did you mean '{meant}'\?"):
        PUBLIC[name]("vgg16", **{typo: 1}) if name != "Convention" else PUBLIC[name](**{typo: 1})


def test_keywords_a_function_takes_through_options_still_pass():
    """analyze() and build_module() take Convention's fields as keywords: those are not unknown."""
    assert hetcalc.analyze("vgg16", variants="standard", flops_per_mac=2).standard.flops == 2 * 313463808
    with pytest.raises(hetcalc.OptionError, match="^build_module\\(\\) got an unknown keyword 'foo'"):
        hetcalc.build_module("vgg16", "hetconv", replace_first=True, foo=1)


def test_too_many_positional_arguments_are_an_option_error():
    with pytest.raises(hetcalc.OptionError, match=r"builtin_names\(\) takes at most 0 positional arguments, got 1"):
        hetcalc.builtin_names("vgg16")
    with pytest.raises(hetcalc.OptionError, match=r"Convention\(\) takes at most 8"):
        hetcalc.Convention(1, (), False, "pytorch", "exact", False, True, None, "extra")


def test_the_wrapped_functions_keep_their_signature_and_doc():
    assert list(inspect.signature(hetcalc.analyze).parameters)[:3] == ["arch", "P", "G"]
    assert hetcalc.analyze.__doc__.startswith("Cost every variant")


def test_the_error_is_also_a_type_error_as_python_raises():
    with pytest.raises(TypeError):
        hetcalc.build_module("vgg16", foo=1)
