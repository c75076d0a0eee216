"""The public surface is deliberate; docstring examples run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import customer_core


def test_exported_members() -> None:
    assert customer_core.__all__ == sorted(customer_core.__all__)
    for name in customer_core.__all__:
        assert hasattr(customer_core, name), name
    for name in ("CustomerService", "MemoryStore", "Customer", "DeletedCustomer", "ListPage"):
        assert name in customer_core.__all__
    # What a subscriber's callback takes, and the retry schedule of webhook deliveries.
    for name in ("Event", "RetryPolicy"):
        assert name in customer_core.__all__
    from customer_core.errors import CustomerCoreError, InvalidRequestError

    assert issubclass(InvalidRequestError, CustomerCoreError)
    assert set(customer_core.__all__) == {*customer_core._HOMES, "__version__"}
    assert (
        customer_core.CustomerService
        is importlib.import_module("customer_core.service").CustomerService
    )
    assert set(customer_core.__all__) <= set(dir(customer_core))
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        customer_core.Nope  # type: ignore[attr-defined]  # noqa: B018


def test_the_pytest_plugin_loads_without_the_library() -> None:
    """pytest loads the plugin in every run of an environment that has customer_core:
    it must not import pydantic and the service (0.4 s) before a fixture asks (trial 7)."""
    code = (
        "import sys, customer_core.testing.pytest_plugin; "
        "print(sorted(m for m in ('pydantic', 'customer_core.service', 'customer_core.models',"
        " 'customer_core.store', 'ulid') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout == "[]\n"


MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(customer_core.__path__, "customer_core.")
    if not info.name.endswith("store_contract")
)


@pytest.mark.parametrize("name", ["customer_core", *MODULES])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_the_package_ships_py_typed() -> None:
    from importlib.resources import files

    assert files("customer_core").joinpath("py.typed").is_file()
