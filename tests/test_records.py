"""hetcalc.records: frozen records mean what @dataclass(frozen=True) means (eq, hash, repr, immutability)."""

from __future__ import annotations

import dataclasses

import pytest

import hetcalc
from hetcalc import costs, counting, graph, report, tables
from hetcalc.records import Record, record

RECORD_CLASSES = [cls for module in (graph, costs, counting, report, tables) for cls in vars(module).values()
                  if isinstance(cls, type) and issubclass(cls, Record) and cls is not Record]


def test_the_table_path_classes_are_records():
    names = {cls.__name__ for cls in RECORD_CLASSES}
    assert {"Conv", "Linear", "Pool", "Add", "Network", "Piece", "ConvType", "Convention", "LayerResult",
            "VariantResult", "Report", "Column"} <= names


@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=lambda c: c.__name__)
def test_records_are_dataclasses_with_no_generated_methods(cls):
    assert dataclasses.is_dataclass(cls)
    for method in ("__init__", "__eq__", "__hash__", "__repr__", "__setattr__"):
        if (cls.__name__, method) in HAND_WRITTEN:
            continue
        assert method not in vars(cls), method  # from Record


HAND_WRITTEN = {("Report", "__repr__")}  # a report shows its summary, not every field (views/notebook.py)


@record
class Point(Record):
    x: int
    y: int = 0
    note: str = dataclasses.field(default="", compare=False)
    hidden: int = dataclasses.field(default=0, repr=False)


@dataclasses.dataclass(frozen=True)
class PointTwin:
    x: int
    y: int = 0
    note: str = dataclasses.field(default="", compare=False)
    hidden: int = dataclasses.field(default=0, repr=False)


@pytest.mark.parametrize("a, b", [((1, 2), (1, 2)), ((1, 2), (1, 3)), ((1, 2, "a"), (1, 2, "b")),
                                  ((1, 2, "", 5), (1, 2, "", 6)), (([1], 2), ([1], 2))])
def test_equality_hash_and_repr_match_dataclasses(a, b):
    mine, theirs = (Point(*a), Point(*b)), (PointTwin(*a), PointTwin(*b))
    assert (mine[0] == mine[1]) is (theirs[0] == theirs[1])
    assert (mine[0] != mine[1]) is (theirs[0] != theirs[1])
    assert repr(mine[0]) == repr(theirs[0]).replace("PointTwin", "Point")
    hashable = not any(isinstance(v, list) for v in a)
    if hashable:
        assert (hash(mine[0]) == hash(mine[1])) or mine[0] != mine[1]
        assert hash(mine[0]) == hash(theirs[0])  # both hash the tuple of compared fields
    else:
        with pytest.raises(TypeError):
            hash(mine[0])


def test_other_classes_are_never_equal():
    assert Point(1, 2) != PointTwin(1, 2)
    assert Point(1, 2) != (1, 2)
    a = graph.Add(name="a", in_shape=(1, 1, 1), out_shape=(1, 1, 1))
    m = graph.Mul(name="a", in_shape=(1, 1, 1), out_shape=(1, 1, 1))
    assert a != m


def test_records_stay_frozen_and_replaceable():
    p = Point(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3
    assert dataclasses.replace(p, y=5) == Point(1, 5)
    assert dataclasses.asdict(p) == {"x": 1, "y": 2, "note": "", "hidden": 0}


def test_record_needs_the_base_class():
    with pytest.raises(TypeError, match="must derive"):
        @record
        class Plain:
            x: int


def test_reports_compare_by_value():
    """Two analyses of the same network are equal reports; a different P is not."""
    assert hetcalc.analyze("resnet56", P=4) == hetcalc.analyze("resnet56", P=4)
    assert hetcalc.analyze("resnet56", P=4) != hetcalc.analyze("resnet56", P=2)
    net = hetcalc.resolve("vgg16")
    assert net == hetcalc.resolve("vgg16") and hash(net.layers[0]) == hash(hetcalc.resolve("vgg16").layers[0])
    assert dataclasses.replace(net, meta={"x": 1}) == net  # meta is not compared


@record
class Defaults(Record):
    a: int
    b: list = dataclasses.field(default_factory=list)
    c: str = "c"
    derived: int = dataclasses.field(default=0, init=False)

    def __post_init__(self):
        object.__setattr__(self, "derived", self.a * 2)


@dataclasses.dataclass(frozen=True)
class DefaultsTwin:
    a: int
    b: list = dataclasses.field(default_factory=list)
    c: str = "c"
    derived: int = dataclasses.field(default=0, init=False)

    def __post_init__(self):
        object.__setattr__(self, "derived", self.a * 2)


@pytest.mark.parametrize("args, kwargs", [((1,), {}), ((1, [2]), {}), ((1,), {"c": "x"}), ((), {"a": 3, "b": [1]}),
                                          ((1, [2], "z"), {})])
def test_init_matches_dataclasses(args, kwargs):
    mine, theirs = Defaults(*args, **kwargs), DefaultsTwin(*args, **kwargs)
    assert dataclasses.asdict(mine) == dataclasses.asdict(theirs)
    assert Defaults(1).b is not Defaults(1).b  # a fresh default per instance


@pytest.mark.parametrize("args, kwargs", [((), {}), ((1, [], "c", 4), {}), ((1,), {"a": 2}), ((1,), {"zz": 1}),
                                          ((), {"derived": 1})])
def test_bad_arguments_raise_type_error_as_dataclasses_do(args, kwargs):
    with pytest.raises(TypeError):
        DefaultsTwin(*args, **kwargs)
    with pytest.raises(TypeError):
        Defaults(*args, **kwargs)


def test_signature_lists_the_fields():
    import inspect

    assert list(inspect.signature(Defaults).parameters) == ["a", "b", "c"]  # derived is not an argument
    assert inspect.signature(Defaults).parameters["c"].default == "c"
    assert list(inspect.signature(graph.Conv).parameters)[:4] == ["name", "in_shape", "out_shape", "kernel"]


def test_nan_fields_compare_as_dataclasses_do():
    nan = float("nan")
    assert Point(nan) == Point(nan)  # the same object: tuples compare by identity first
    assert (Point(nan) == Point(float("nan"))) is (PointTwin(nan) == PointTwin(float("nan")))


@pytest.mark.parametrize("copier", ["pickle", "copy", "deepcopy"])
def test_records_survive_pickle_and_copy(copier):
    """Slotted (LayerResult) and plain records alike: the frozen __setattr__ must not stop unpickling."""
    import copy
    import pickle

    r = hetcalc.analyze("resnet56")
    do = {"pickle": lambda o: pickle.loads(pickle.dumps(o)), "copy": copy.copy, "deepcopy": copy.deepcopy}[copier]
    for obj in (r.standard.layers[0], r.network.layers[0], r.network, r.convention, Point(1, 2, "n", 3)):
        back = do(obj)
        assert back == obj and type(back) is type(obj)
        assert repr(back) == repr(obj)
        with pytest.raises(dataclasses.FrozenInstanceError):
            back.name = "x"
