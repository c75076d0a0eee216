"""The layers keep to their jobs: the store port holds no Stripe rules, the form decoder
knows no parameter, and the shared pieces (Record, int64 limits, transactions) exist once."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import customer_core
from customer_core import CustomerService, InvalidRequestError, MemoryStore, models, service
from customer_core.http.forms import decode, decode_pairs
from customer_core.search import engine, parse
from customer_core.store import base
from customer_core.store.base import KeyRange, NestedTransaction, Store

PACKAGE = Path(customer_core.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """The modules a source file imports, relative ones resolved against customer_core."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{parent}.{node.module}" if node.module else parent)
            else:
                found.add(node.module or "")
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_store_port_does_not_evaluate_or_plan_searches() -> None:
    imports = imported_modules(PACKAGE / "store" / "base.py")
    assert not [name for name in imports if name.startswith("customer_core.search")]
    for name in ("search", "count_matches", "_candidates"):
        assert not hasattr(Store, name), name


def test_stripes_total_count_cap_belongs_to_the_service() -> None:
    assert service.TOTAL_COUNT_CAP == 10_000
    assert "10_000" not in (PACKAGE / "store" / "base.py").read_text()
    assert "cap" in inspect.signature(engine.count).parameters
    assert inspect.signature(engine.count).parameters["cap"].default is inspect.Parameter.empty


def test_search_runs_over_any_store_through_the_engine() -> None:
    svc = CustomerService(MemoryStore(), clock=lambda: 100, seed=1)
    created = [svc.create(email=f"amy{n}@example.com", metadata={"plan": "gold"}) for n in range(3)]
    store = svc.store
    found = engine.find(store, parse('metadata["plan"]:"gold"'), KeyRange(), limit=2)
    assert [record["id"] for record in found] == [created[2].id, created[1].id]
    assert engine.count(store, parse('email~"amy"'), cap=2) == 2
    assert svc.search(query='email~"amy"', expand=["total_count"]).total_count == 3


def test_record_is_defined_once() -> None:
    assert base.Record is models.Record
    definitions = [
        path
        for path in PACKAGE.rglob("*.py")
        if any(
            isinstance(node, ast.Assign)
            and any(
                isinstance(target, ast.Name) and target.id == "Record" for target in node.targets
            )
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert definitions == [PACKAGE / "models.py"]


def test_int64_limits_and_integer_syntax_are_defined_once() -> None:
    holders = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "2**63" in path.read_text()
        or "isdigit" in path.read_text()
        or "{1,20}" in path.read_text()
    ]
    assert holders == ["integers.py"]


def test_the_service_public_methods_need_no_type_ignore() -> None:
    assert "type: ignore" not in (PACKAGE / "service.py").read_text()


def test_the_form_decoder_treats_every_parameter_name_alike() -> None:
    tree = ast.parse((PACKAGE / "http" / "forms.py").read_text())
    constants = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    assert not constants & {"metadata", "expand", "preferred_locales"}
    pairs = [("metadata[0]", "a"), ("metadata[1]", "b"), ("other[0]", "c"), ("other[1]", "d")]
    assert decode_pairs(pairs) == {"metadata": {"0": "a", "1": "b"}, "other": {"0": "c", "1": "d"}}


def test_params_read_a_hash_of_indexes_as_an_array_and_metadata_as_a_hash() -> None:
    svc = CustomerService(MemoryStore(), seed=1)
    customer = svc.create(
        **decode("preferred_locales[1]=fr&preferred_locales[0]=en&metadata[0]=a&metadata[1]=b")
    )
    assert customer.preferred_locales == ["en", "fr"]
    assert customer.metadata == {"0": "a", "1": "b"}
    fields = decode(
        "invoice_settings[custom_fields][0][name]=PO&invoice_settings[custom_fields][0][value]=7"
    )
    assert svc.create(**fields).invoice_settings.custom_fields[0].name == "PO"  # type: ignore[index]


@pytest.mark.parametrize("index", ["²", "٣", "1_0", " 1", "+1", "-1"])
def test_an_array_index_is_ascii_digits_only(index: str) -> None:
    svc = CustomerService(MemoryStore(), seed=1)
    with pytest.raises(InvalidRequestError) as caught:
        svc.create(**decode(f"expand[{index}]=x"))
    assert (caught.value.param, caught.value.message) == ("expand", "Invalid array for expand")
    assert svc.store.count() == 0


class Hooks:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def begin(self) -> None:
        self.calls.append("begin")

    def commit(self) -> None:
        self.calls.append("commit")

    def abort(self) -> None:
        self.calls.append("abort")


def test_nested_transaction_runs_the_hooks_of_the_outermost_block_only() -> None:
    hooks = Hooks()
    transaction = NestedTransaction(hooks)
    with transaction:
        with transaction:
            assert transaction.depth == 2
        assert hooks.calls == ["begin"]
    assert (hooks.calls, transaction.depth) == (["begin", "commit"], 0)
    with pytest.raises(KeyError), transaction, transaction:
        raise KeyError("x")
    assert hooks.calls == ["begin", "commit", "begin", "abort"]
    assert transaction.lock.acquire(blocking=False)  # released after both outcomes
    transaction.lock.release()


def test_a_failing_begin_releases_the_lock() -> None:
    class Failing(Hooks):
        def begin(self) -> None:
            raise OSError("disk")

    transaction = NestedTransaction(Failing())
    with pytest.raises(OSError), transaction:
        pass
    assert transaction.depth == 0
    assert transaction.lock.acquire(blocking=False)
    transaction.lock.release()
